"""Exactly-once processor: consume-transform-produce in one transaction.

For each batch of deposits it writes one credit record per deposit to the
ledger topic AND commits the batch's offsets in the same transaction: both
happen or neither does, so every deposit is credited exactly once.

    python consumer.py --bootstrap localhost:9092 --topic deposits --ledger credits --group processor --count 5
"""
import argparse
import json

from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

p = argparse.ArgumentParser()
p.add_argument("--bootstrap", default="localhost:9092")
p.add_argument("--topic", default="deposits")
p.add_argument("--ledger", default="credits")
p.add_argument("--group", default="processor")
p.add_argument("--transactional-id", default="processor-1")
p.add_argument("--count", type=int, default=0, help="stop after this many credits (0: never)")
p.add_argument("--idle", type=float, default=10, help="stop after this many seconds without a record")
args = p.parse_args()

consumer = KafkaConsumer(
    args.topic,
    bootstrap_servers=args.bootstrap,
    group_id=args.group,
    # Read only committed transactions: skip records of aborted ones and wait
    # at open ones. The default, read_uncommitted, would credit aborted deposits.
    # With read_committed, committed() also waits for offsets of a transaction
    # still being completed (KIP-447 require_stable), so a rewind never lands
    # on offsets that are about to change.
    isolation_level="read_committed",
    # Offsets are committed by the producer, inside the transaction. With
    # auto-commit they would be committed apart from it: not exactly-once.
    enable_auto_commit=False,
    auto_offset_reset="earliest",  # a new group starts at the first deposit
)
# transactional_id implies enable_idempotence=True and acks='all'. A newer
# processor with the same id fences this one (one way: the newer wins) and
# aborts its open transaction.
producer = KafkaProducer(bootstrap_servers=args.bootstrap, transactional_id=args.transactional_id)
producer.init_transactions()  # once, before the first begin_transaction()


def rewind(consumer):
    """Move every assigned partition back to the group's last committed offset.

    poll() has already moved the consumer's position past the batch. After an
    abort, that batch was never committed: without this, the next poll would
    start after it and its deposits would never be credited.
    """
    for tp in consumer.assignment():
        offset = consumer.committed(tp)
        if offset is None:
            consumer.seek_to_beginning(tp)  # nothing committed yet: where auto_offset_reset="earliest" starts
        else:
            consumer.seek(tp, offset)


credited = 0
while args.count == 0 or credited < args.count:
    want = args.count - credited if args.count else 500  # at most this many per batch
    batches = consumer.poll(timeout_ms=int(args.idle * 1000), max_records=want)
    if not batches:
        break  # idle
    producer.begin_transaction()
    offsets, credits = {}, []
    try:
        for tp, records in batches.items():
            for r in records:
                deposit = json.loads(r.value)
                credit = {"deposit": deposit["id"], "amount": deposit["amount"]}
                producer.send(args.ledger, key=r.key, value=json.dumps(credit).encode())
                credits.append(f"credit {deposit['id']} amount={deposit['amount']} offset={r.offset}")
            offsets[tp] = OffsetAndMetadata(records[-1].offset + 1, "", -1)  # the next to read
        # The consumed offsets join the transaction; group_metadata() lets the
        # broker reject them if this consumer has been replaced in the group meanwhile.
        producer.send_offsets_to_transaction(offsets, consumer.group_metadata())
        # Credits and offsets become visible together. kafka-python 3.0.12 waits
        # here until the coordinator answers (it retries retriable errors itself).
        producer.commit_transaction()
    except KafkaError as e:
        # An abortable error (a credit the broker refused, offsets rejected
        # because the group moved on): this transaction did not commit. Abort
        # it, then rewind, so the same deposits are polled and credited again.
        #
        # A fatal error (fenced by a newer instance with our transactional id,
        # or a commit that failed in a way the client cannot handle, whose
        # outcome is then unknown: it may still complete) leaves nothing safe
        # to do here: abort_transaction() raises too, and the process dies.
        # That is the right thing: a restarted processor's init_transactions()
        # waits for a transaction still being completed, and it resumes from
        # whatever offsets were committed, so a commit that went through is
        # not redone and one that did not is.
        producer.abort_transaction()
        rewind(consumer)
        print(f"aborted {len(credits)} credits ({type(e).__name__}); rewound to the last committed offsets")
        continue
    credited += len(credits)
    print(*credits, sep="\n")

producer.close()
consumer.close()
