"""At-most-once processor: commit a deposit's offset BEFORE crediting it.

A crash after the commit and before the credit loses that deposit (it is
never read again); nothing is ever credited twice.

    python consumer.py --bootstrap localhost:9092 --topic deposits --group processor --count 5
"""
import argparse
import json

from kafka import KafkaConsumer

p = argparse.ArgumentParser()
p.add_argument("--bootstrap", default="localhost:9092")
p.add_argument("--topic", default="deposits")
p.add_argument("--group", default="processor")
p.add_argument("--count", type=int, default=0, help="stop after this many credits (0: never)")
p.add_argument("--idle", type=float, default=10, help="stop after this many seconds without a record")
args = p.parse_args()

consumer = KafkaConsumer(
    args.topic,
    bootstrap_servers=args.bootstrap,
    group_id=args.group,  # the group's committed offset is where a restart resumes
    # No automatic commits. With enable_auto_commit=True (the seed's setting)
    # poll() commits, at most every auto_commit_interval_ms (5 s), the
    # positions already handed out, and this loop polls again only after
    # processing them: a crash repeats the deposits credited since the last
    # auto-commit and loses none. That is at least once, not at most once.
    # (Handing records to another thread before the next poll could lose them.)
    enable_auto_commit=False,
    auto_offset_reset="earliest",  # a new group starts at the first deposit
    consumer_timeout_ms=int(args.idle * 1000),  # ends the for loop when idle
)

credited = 0
for record in consumer:
    # 1. Commit first: commit() stores this record's offset + 1, so the
    #    group will never read it again, credited or not.
    consumer.commit()
    # 2. Then credit. A crash right here loses this deposit: at most once.
    deposit = json.loads(record.value)
    credited += 1
    print(f"credit {deposit['id']} amount={deposit['amount']} offset={record.offset}")
    if credited == args.count:
        break

consumer.close()
