# The seed material's at-least-once consumer, verbatim: the snippet commonly copied for
# at-least-once. Do not use it as it is: the at-least-once lesson's "mistakes" section shows it
# beside the corrected sample, at-least-once/consumer.py, and says what it gets wrong.
# lessons/samples/samples_test.go compiles it.

from kafka import KafkaConsumer

consumer = KafkaConsumer(
    'test_topic',
    bootstrap_servers='localhost:9092',
    group_id='test_group',
    enable_auto_commit=False,  # 자동 커밋 끄기
    auto_offset_reset='earliest'
)

for message in consumer:
    print(f"Received message: {message.value.decode()}")
    consumer.commit()  # 메시지를 처리하고 명시적으로 커밋
