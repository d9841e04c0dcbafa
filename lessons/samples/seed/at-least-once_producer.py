# The seed material's at-least-once producer, verbatim: the snippet commonly copied for
# at-least-once. Do not use it as it is: the at-least-once lesson's "mistakes" section shows it
# beside the corrected sample, at-least-once/producer.py, and says what it gets wrong.
# lessons/samples/samples_test.go compiles it.

from kafka import KafkaProducer

producer = KafkaProducer(
    bootstrap_servers='localhost:9092',
    acks='all',  # 메시지를 모든 브로커에 기록할 때까지 기다림
    enable_idempotence=False  # 중복을 방지하지 않음
)

producer.send('test_topic', value=b'Hello, Kafka!')
producer.flush() 
producer.close()
