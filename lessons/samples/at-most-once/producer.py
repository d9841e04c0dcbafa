"""At-most-once producer: send each deposit once and never retry.

    pip install 'kafka-python>=3'
    python producer.py --bootstrap localhost:9092 --topic deposits --count 5
"""
import argparse
import json

from kafka import KafkaProducer
from kafka.errors import KafkaError

p = argparse.ArgumentParser()
p.add_argument("--bootstrap", default="localhost:9092")
p.add_argument("--topic", default="deposits")
p.add_argument("--count", type=int, default=5)
args = p.parse_args()

producer = KafkaProducer(
    bootstrap_servers=args.bootstrap,
    # The leader's write is enough (no wait for replicas; on a single broker
    # 1 and 'all' behave alike). An int: kafka-python 3 cannot encode the
    # seed's acks='1' string; every send with it expires unsent.
    acks=1,
    # Never resend. A send whose answer is lost is reported as failed, even
    # if the broker wrote it: a deposit lands at most once, or not at all.
    retries=0,
    # kafka-python 3 is idempotent by default, which needs acks='all' and
    # retries: turn it off explicitly (otherwise it is dropped with a warning).
    enable_idempotence=False,
    # Give up on a record after 5 s instead of the default 2 minutes.
    delivery_timeout_ms=5000,
    request_timeout_ms=4000,
    linger_ms=5,  # wait up to 5 ms to put several deposits in one request
)

futures = []
for i in range(1, args.count + 1):
    key = f"d-{i:06d}"
    value = json.dumps({"id": key, "amount": 1}).encode()
    futures.append((key, producer.send(args.topic, key=key.encode(), value=value)))

for key, future in futures:
    try:
        md = future.get(timeout=10)  # blocks until the broker answers
        print(f"sent {key} partition={md.partition} offset={md.offset}")
    except KafkaError as e:
        # No retry: this deposit may or may not be in the log.
        print(f"failed {key}: {e!r}")

producer.close()
