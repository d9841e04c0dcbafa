"""At-least-once producer: wait for every replica, retry until acknowledged.

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
    # Acknowledged only once every in-sync replica has the record. That
    # survives losing the leader only with replication factor >= 3 and
    # min.insync.replicas >= 2 (the default is 1: the in-sync set may be the
    # leader alone). A single broker, like the lab's embedded one, has no
    # replicas: there 'all' is the same as 1.
    acks="all",
    # Resend when the answer does not come back. If the broker had written
    # the record and only its answer was lost, the retry writes it again:
    # a duplicate. Never lost, maybe twice: at least once.
    retries=5,
    retry_backoff_ms=100,
    # As in the seed. enable_idempotence=True (kafka-python 3's default) would
    # let the broker drop such a retry by producer id + per-partition sequence
    # number and remove the producer's retry duplicates, within this producer
    # session only. A deposit you send again yourself is a new record, and
    # the processor's duplicates remain: consumers must still deduplicate.
    enable_idempotence=False,
    delivery_timeout_ms=30000,  # retries stop after 30 s: then report failure
    request_timeout_ms=5000,  # an answer missing for 5 s counts as lost: retry
    linger_ms=5,  # wait up to 5 ms to put several deposits in one request
)

futures = []
for i in range(1, args.count + 1):
    key = f"d-{i:06d}"
    value = json.dumps({"id": key, "amount": 1}).encode()
    futures.append((key, producer.send(args.topic, key=key.encode(), value=value)))

producer.flush()  # send everything still buffered and wait for the answers
for key, future in futures:
    try:
        md = future.get()
        print(f"sent {key} partition={md.partition} offset={md.offset}")
    except KafkaError as e:
        # Even after retries: resend it yourself, or record it as failed.
        print(f"failed {key}: {e!r}")

producer.close()
