"""The client matrix's probes for kafka-python 3 (lessons/clients).

Run by TestClientMatrix:
    python probe_kafka_python.py BOOTSTRAP PREFIX
The Go side has created the topics PREFIX.{idem,txn,rc,in,out} and written
the fixtures (rc: 3 aborted then 3 committed records; in: i-0..i-2). Each
probe prints one line RESULT<TAB>key<TAB>value<TAB>how; a probe that raises
prints "ERROR <exception>" as its value and the others go on.
"""
import importlib.metadata
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

bootstrap, prefix = sys.argv[1], sys.argv[2]
TIMEOUT = 30  # seconds, for each blocking wait


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
        msg = str(e) if str(e).startswith(type(e).__name__) else f"{type(e).__name__}: {e}"
        out(key, f"ERROR {msg}", how)


def producer(**kw):
    return KafkaProducer(bootstrap_servers=bootstrap, **kw)


def idem():
    p = producer(enable_idempotence=True, acks="all")
    for i in range(5):
        p.send(topic("idem"), key=f"k-{i}".encode(), value=b"v", partition=0)
    p.flush(TIMEOUT)
    p.close()


def txn():
    p = producer(transactional_id=txid("txn"))
    p.init_transactions()
    for keys, commit in ((["a-0", "a-1", "a-2"], False), (["c-0", "c-1", "c-2"], True)):
        p.begin_transaction()
        for k in keys:
            p.send(topic("txn"), key=k.encode(), value=k.encode(), partition=0)
        p.flush(TIMEOUT)
        if commit:
            p.commit_transaction()
        else:
            p.abort_transaction()
    p.close()


def read_committed():
    c = KafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed",
                      enable_auto_commit=False, consumer_timeout_ms=3000)
    tp = TopicPartition(topic("rc"), 0)
    c.assign([tp])
    c.seek_to_beginning(tp)
    keys = [m.key.decode() if m.key else "<empty>" for m in c]
    c.close()
    return ",".join(keys)


def consume_transform_produce():
    c = KafkaConsumer(topic("in"), bootstrap_servers=bootstrap, group_id=group("txn-offsets"),
                      enable_auto_commit=False, auto_offset_reset="earliest", isolation_level="read_committed")
    records, deadline = [], time.monotonic() + TIMEOUT
    while len(records) < 3 and time.monotonic() < deadline:
        for batch in c.poll(timeout_ms=500).values():
            records.extend(batch)
    if len(records) < 3:
        raise RuntimeError(f"read {len(records)} of 3 input records within {TIMEOUT}s")
    p = producer(transactional_id=txid("txn-offsets"))
    p.init_transactions()
    p.begin_transaction()
    for r in records:
        p.send(topic("out"), key=b"o-" + r.key[2:], value=r.value, partition=0)
    offsets = {TopicPartition(r.topic, r.partition): OffsetAndMetadata(r.offset + 1, "", -1) for r in records}
    p.send_offsets_to_transaction(offsets, c.group_metadata())
    p.commit_transaction()
    p.close()
    c.close()


def kip848():
    c = KafkaConsumer(topic("in"), bootstrap_servers=bootstrap, group_id=group("kip-848"),
                      auto_offset_reset="earliest", group_protocol="consumer")
    n, deadline = 0, time.monotonic() + TIMEOUT
    while n == 0 and time.monotonic() < deadline:
        n += sum(len(b) for b in c.poll(timeout_ms=500).values())
    c.close()
    return f"ok {n}"


out("version", importlib.metadata.version("kafka-python"))
probe("idem", "KafkaProducer(enable_idempotence=True, acks='all')", idem)
probe("txn", "KafkaProducer(transactional_id=...)", txn)
probe("rc", "KafkaConsumer(isolation_level='read_committed')", read_committed)
probe("eos", "KafkaConsumer in a group, KafkaProducer.send_offsets_to_transaction(offsets, consumer.group_metadata())",
      consume_transform_produce)
probe("kip848", "KafkaConsumer(group_protocol='consumer')", kip848)

# Defaults: the config dicts of clients constructed with nothing but the
# bootstrap servers (and a group id for the consumer).
p = producer()
out("acks", p.config["acks"], "KafkaProducer().config['acks']")
out("retries", p.config["retries"], "KafkaProducer().config['retries']")
out("idempotence", p.config["enable_idempotence"], "KafkaProducer().config['enable_idempotence']")
p.close()
c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group("defaults"))
out("auto_commit", c.config["enable_auto_commit"], "KafkaConsumer(group_id=...).config['enable_auto_commit']")
out("auto_commit_interval", f"{c.config['auto_commit_interval_ms']} ms", "KafkaConsumer(group_id=...).config['auto_commit_interval_ms']")
out("isolation", c.config["isolation_level"], "KafkaConsumer(group_id=...).config['isolation_level']")
c.close()
