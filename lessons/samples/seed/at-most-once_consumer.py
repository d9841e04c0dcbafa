# The seed material's at-most-once consumer, verbatim: the snippet commonly copied for
# at-most-once. Do not use it as it is: the at-most-once lesson's "mistakes" section shows it
# beside the corrected sample, at-most-once/consumer.py, and says what it gets wrong.
# lessons/samples/samples_test.go compiles it.

from kafka import KafkaConsumer

# 컨슈머 설정
consumer = KafkaConsumer(
    'test_topic',
    bootstrap_servers='localhost:9092',
    group_id='test_group',
    enable_auto_commit=True,  # 자동 커밋 활성화
    auto_offset_reset='earliest'
)

for message in consumer:
    print(f"Received message: {message.value.decode()}")
