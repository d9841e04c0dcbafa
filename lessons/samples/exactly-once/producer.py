"""Exactly-once producer: idempotent and transactional.

All deposits of a run are written in one transaction: consumers reading
read_committed see all of them or none, and a retry never duplicates one.

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
p.add_argument("--transactional-id", default="deposit-producer-1")
args = p.parse_args()

producer = KafkaProducer(
    bootstrap_servers=args.bootstrap,
    # Names this producer across restarts: a new instance with the same id
    # aborts the old one's unfinished transaction and fences it off. Setting
    # it also turns on enable_idempotence (the broker drops retried
    # duplicates by producer id + sequence) and requires acks='all'.
    transactional_id=args.transactional_id,
    acks="all",
    enable_idempotence=True,
)
# Required once, before the first begin_transaction(): registers the id with
# the transaction coordinator and gets a producer id and epoch. Skipping it
# (as the seed does) fails: "Invalid transition ... UNINITIALIZED to IN_TRANSACTION".
producer.init_transactions()

producer.begin_transaction()
futures = []
for i in range(1, args.count + 1):
    key = f"d-{i:06d}"
    value = json.dumps({"id": key, "amount": 1}).encode()
    futures.append((key, producer.send(args.topic, key=key.encode(), value=value)))
producer.flush()  # send everything buffered and wait for the answers

ok = True
for key, future in futures:
    try:
        md = future.get()
        print(f"sent {key} partition={md.partition} offset={md.offset} (not visible until commit)")
    except KafkaError as e:
        ok = False
        print(f"failed {key}: {e!r}")

if ok:
    producer.commit_transaction()  # now, and only now, read_committed consumers see them
    print(f"committed {len(futures)} deposits")
else:
    producer.abort_transaction()  # none of this transaction's deposits become visible
    print("aborted: no deposit of this transaction is visible; run again")
producer.close()
raise SystemExit(0 if ok else 1)
