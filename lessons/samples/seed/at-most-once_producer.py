# The seed material's at-most-once producer, verbatim: the snippet commonly copied for
# at-most-once. Do not use it as it is: the at-most-once lesson's "mistakes" section shows it
# beside the corrected sample, at-most-once/producer.py, and says what it gets wrong.
# lessons/samples/samples_test.go compiles it.

from kafka import KafkaProducer

producer = KafkaProducer(
    bootstrap_servers='localhost:9092',
    acks='1',  # 리더 브로커만 응답
    enable_idempotence=False  # 중복 방지 기능 비활성화
)

producer.send('test_topic', value=b'Hello, Kafka!')
producer.flush() 
producer.close()
