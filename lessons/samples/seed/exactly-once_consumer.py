# The seed material's exactly-once consumer, verbatim: the snippet commonly copied for
# exactly-once. Do not use it as it is: the exactly-once lesson's "mistakes" section shows it
# beside the corrected sample, exactly-once/consumer.py, and says what it gets wrong.
# lessons/samples/samples_test.go compiles it.

from kafka import KafkaConsumer

consumer = KafkaConsumer(
    'test_topic',
    bootstrap_servers='localhost:9092',
    group_id='test_group',
    enable_auto_commit=True,
    auto_offset_reset='earliest'
)

for message in consumer:
    print(f"Received message: {message.value.decode()}")
