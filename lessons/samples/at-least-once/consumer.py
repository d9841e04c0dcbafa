"""At-least-once processor: credit a deposit FIRST, then commit its offset.

A crash after the credit and before the commit credits that deposit again
after the restart: never lost, maybe twice. Make the credit idempotent
(e.g. skip deposit ids already credited) if duplicates matter.

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
    # We commit ourselves, after the work is done. Auto-commit would not lose
    # deposits in this loop (poll() commits only positions already handed out,
    # and the loop polls again only after crediting them), but its 5 s timing,
    # not this code, would decide how many a crash repeats. (Handing records
    # to another thread before the next poll could lose them.)
    enable_auto_commit=False,
    auto_offset_reset="earliest",  # a new group starts at the first deposit
    consumer_timeout_ms=int(args.idle * 1000),  # ends the for loop when idle
)

credited = 0
for record in consumer:
    # 1. Credit first. A crash right here means no commit: the deposit is
    #    read and credited again after the restart.
    deposit = json.loads(record.value)
    credited += 1
    print(f"credit {deposit['id']} amount={deposit['amount']} offset={record.offset}")
    # 2. Then commit (synchronously: returns once the broker stored it) this
    #    record's offset + 1. One commit per record is simple but slow; a real
    #    processor commits after each batch, with the same guarantee.
    consumer.commit()
    if credited == args.count:
        break

consumer.close()
