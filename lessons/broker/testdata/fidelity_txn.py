"""Transactions on the lab's broker, checked by librdkafka (confluent-kafka).

Run by lessons/broker/fidelity_test.go:
    python fidelity_txn.py BOOTSTRAP TOPIC
Commits one transaction of 3 records (keys c-0..c-2), aborts one of 3
(keys a-0..a-2), then reads the topic from the start twice, read_committed
and read_uncommitted, and prints one JSON line with the keys each saw.
"""
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition

bootstrap, topic = sys.argv[1], sys.argv[2]
TIMEOUT = 20.0  # seconds, for each blocking call

delivered, failed = [], []


def on_delivery(err, msg):
    if err is not None:
        failed.append(str(err))
    else:
        delivered.append((msg.key().decode(), msg.offset()))


p = Producer({
    "bootstrap.servers": bootstrap,
    "transactional.id": topic + ".txn",
    "enable.idempotence": True,
    "acks": "all",
    "transaction.timeout.ms": 30000,
    "linger.ms": 5,
})
p.init_transactions(TIMEOUT)

p.begin_transaction()
for i in range(3):
    p.produce(topic, key=f"c-{i}", value=f"committed {i}", partition=0, on_delivery=on_delivery)
p.commit_transaction(TIMEOUT)  # flushes first

p.begin_transaction()
for i in range(3):
    p.produce(topic, key=f"a-{i}", value=f"aborted {i}", partition=0, on_delivery=on_delivery)
if p.flush(TIMEOUT) != 0:  # the aborted records really reach the log
    sys.exit("flush before abort timed out")
p.abort_transaction(TIMEOUT)


def read(isolation):
    c = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": f"{topic}.{isolation}",  # required by the client; no group is joined (assign)
        "isolation.level": isolation,
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        "fetch.wait.max.ms": 100,  # end of partition is seen after an empty fetch
    })
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    keys, deadline = [], time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    return keys
                raise RuntimeError(f"{isolation} consumer: {m.error()}")
            keys.append(m.key().decode())
        raise RuntimeError(f"{isolation} consumer: no end of partition within {TIMEOUT}s, read {keys}")
    finally:
        c.close()


print(json.dumps({
    "delivered": [k for k, _ in delivered],
    "offsets": [o for _, o in delivered],
    "failed": failed,
    "read_committed": read("read_committed"),
    "read_uncommitted": read("read_uncommitted"),
}))
