"""The client matrix's probes for confluent-kafka (librdkafka) (lessons/clients).

Run by TestClientMatrix:
    python probe_confluent_kafka.py BOOTSTRAP PREFIX
The Go side has created the topics PREFIX.{idem,txn,rc,in,out} and written
the fixtures (rc: 3 aborted then 3 committed records; in: i-0..i-2). Each
probe prints one line RESULT<TAB>key<TAB>value<TAB>how; a probe that raises
prints "ERROR <exception>" as its value and the others go on. The defaults
come from librdkafka's own configuration dump (rd_kafka_conf_dump) of the
library the wheel bundles.
"""
import ctypes
import importlib.metadata
import glob
import os
import sys
import time

import confluent_kafka
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition

bootstrap, prefix = sys.argv[1], sys.argv[2]
TIMEOUT = 30.0  # seconds, for each blocking call


def topic(s): return f"{prefix}.{s}"
def group(s): return f"{prefix}.group.{s}"
def txid(s): return f"{prefix}.txid.{s}"


def out(key, value, how=""):
    clean = lambda s: " ".join(str(s).split())
    print(f"RESULT\t{key}\t{clean(value)}\t{clean(how)}", flush=True)


def probe(key, how, fn):
    try:
        v = fn()
        out(key, "ok" if v is None else v, how)
    except Exception as e:  # the error is the cell's evidence
        out(key, f"ERROR {type(e).__name__}: {e}", how)


failed = []


def on_delivery(err, msg):
    if err is not None:
        failed.append(str(err))


def check_delivered(p):
    if p.flush(TIMEOUT) != 0:
        raise RuntimeError(f"flush timed out after {TIMEOUT}s")
    if failed:
        raise RuntimeError(f"delivery failed: {failed}")


def idem():
    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for i in range(5):
        p.produce(topic("idem"), key=f"k-{i}", value="v", partition=0, on_delivery=on_delivery)
    check_delivered(p)


def txn():
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": txid("txn")})
    p.init_transactions(TIMEOUT)
    for keys, commit in ((["a-0", "a-1", "a-2"], False), (["c-0", "c-1", "c-2"], True)):
        p.begin_transaction()
        for k in keys:
            p.produce(topic("txn"), key=k, value=k, partition=0, on_delivery=on_delivery)
        check_delivered(p)
        if commit:
            p.commit_transaction(TIMEOUT)
        else:
            p.abort_transaction(TIMEOUT)


def read_committed():
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group("rc"),  # required; assign joins no group
                  "isolation.level": "read_committed", "enable.auto.commit": False,
                  "enable.partition.eof": True, "fetch.wait.max.ms": 100})
    c.assign([TopicPartition(topic("rc"), 0, OFFSET_BEGINNING)])
    keys, deadline = [], time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    return ",".join(keys)
                raise RuntimeError(str(m.error()))
            keys.append(m.key().decode() if m.key() else "<empty>")
        raise RuntimeError(f"no end of partition within {TIMEOUT}s, read {keys}")
    finally:
        c.close()


def consume(c, n):
    records, deadline = [], time.monotonic() + TIMEOUT
    while len(records) < n and time.monotonic() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            raise RuntimeError(str(m.error()))
        records.append(m)
    return records


def consume_transform_produce():
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group("txn-offsets"),
                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                  "isolation.level": "read_committed"})
    c.subscribe([topic("in")])
    records = consume(c, 3)
    if len(records) < 3:
        raise RuntimeError(f"read {len(records)} of 3 input records within {TIMEOUT}s")
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": txid("txn-offsets")})
    p.init_transactions(TIMEOUT)
    p.begin_transaction()
    for r in records:
        p.produce(topic("out"), key=b"o-" + r.key()[2:], value=r.value(), partition=0, on_delivery=on_delivery)
    offsets = [TopicPartition(r.topic(), r.partition(), r.offset() + 1) for r in records]
    p.send_offsets_to_transaction(offsets, c.consumer_group_metadata(), TIMEOUT)
    p.commit_transaction(TIMEOUT)
    c.close()


def kip848():
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group("kip-848"),
                  "auto.offset.reset": "earliest", "group.protocol": "consumer"})
    c.subscribe([topic("in")])
    n = len(consume(c, 1))
    c.close()
    return f"ok {n}"


out("version", f"{importlib.metadata.version('confluent-kafka')} (librdkafka {confluent_kafka.libversion()[0]})")
probe("idem", "Producer({'enable.idempotence': True})", idem)
probe("txn", "Producer({'transactional.id': ...})", txn)
probe("rc", "Consumer({'isolation.level': 'read_committed'})", read_committed)
probe("eos", "Consumer in a group, Producer.send_offsets_to_transaction(offsets, consumer.consumer_group_metadata())",
      consume_transform_produce)
probe("kip848", "Consumer({'group.protocol': 'consumer'})", kip848)

# Defaults: librdkafka's configuration dump of a new configuration, from
# the librdkafka the wheel bundles (the one confluent_kafka has loaded).
libs = glob.glob(os.path.join(os.path.dirname(confluent_kafka.__file__), os.pardir, "confluent_kafka.libs", "librdkafka*.so*"))
lib = ctypes.CDLL(libs[0]) if libs else ctypes.CDLL("librdkafka.so.1")
lib.rd_kafka_conf_new.restype = ctypes.c_void_p
lib.rd_kafka_topic_conf_new.restype = ctypes.c_void_p
for f in (lib.rd_kafka_conf_dump, lib.rd_kafka_topic_conf_dump):
    f.restype = ctypes.POINTER(ctypes.c_char_p)
    f.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t)]
lib.rd_kafka_conf_dump_free.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t]


def dump(fn, conf):
    n = ctypes.c_size_t()
    arr = fn(conf, ctypes.byref(n))
    d = {arr[i].decode(): arr[i + 1].decode() for i in range(0, n.value, 2)}
    lib.rd_kafka_conf_dump_free(arr, n)
    return d


conf = dump(lib.rd_kafka_conf_dump, lib.rd_kafka_conf_new())
tconf = dump(lib.rd_kafka_topic_conf_dump, lib.rd_kafka_topic_conf_new())
out("acks", tconf["request.required.acks"], "rd_kafka_topic_conf_dump: request.required.acks (acks)")
out("retries", conf["message.send.max.retries"], "rd_kafka_conf_dump: message.send.max.retries (retries)")
out("idempotence", conf["enable.idempotence"], "rd_kafka_conf_dump: enable.idempotence")
out("auto_commit", conf["enable.auto.commit"], "rd_kafka_conf_dump: enable.auto.commit")
out("auto_commit_interval", f"{conf['auto.commit.interval.ms']} ms", "rd_kafka_conf_dump: auto.commit.interval.ms")
out("isolation", conf["isolation.level"], "rd_kafka_conf_dump: isolation.level")
