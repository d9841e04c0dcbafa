// The client matrix's probes for the Java client, kafka-clients 4.4.0
// (lessons/clients). Run by TestClientMatrix as a single-file program:
//
//   java -cp '<libs>/*' ClientProbe.java BOOTSTRAP PREFIX
//
// The Go side has created the topics PREFIX.{idem,txn,rc,in,out} and
// written the fixtures (rc: 3 aborted then 3 committed records; in:
// i-0..i-2). Each probe prints one line RESULT<TAB>key<TAB>value<TAB>how; a
// probe that throws prints "ERROR <exception>" as its value and the others
// go on. The defaults are the values of ProducerConfig and ConsumerConfig
// built from nothing but the bootstrap servers (and a group id).

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.internals.AppInfoParser;

public class ClientProbe {
    interface Probe {
        Object run() throws Exception;
    }

    static String bootstrap, prefix;

    static String topic(String s) { return prefix + "." + s; }
    static String group(String s) { return prefix + ".group." + s; }
    static String txid(String s) { return prefix + ".txid." + s; }

    static void out(String key, Object value, String how) {
        String v = String.valueOf(value).replaceAll("\\s+", " ");
        System.out.println("RESULT\t" + key + "\t" + v + "\t" + how);
        System.out.flush();
    }

    static void probe(String key, String how, Probe p) {
        try {
            Object v = p.run();
            out(key, v == null ? "ok" : v, how);
        } catch (Throwable t) {
            Throwable cause = t;
            while (cause.getCause() != null && cause != cause.getCause()) cause = cause.getCause();
            out(key, "ERROR " + cause, how);
        }
    }

    static Properties producerProps() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
        return p;
    }

    static Properties consumerProps(String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        if (group != null) p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        return p;
    }

    static List<ConsumerRecord<String, String>> poll(KafkaConsumer<String, String> c, int n) {
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (got.size() < n && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) got.add(r);
        }
        return got;
    }

    public static void main(String[] args) throws Exception {
        bootstrap = args[0];
        prefix = args[1];
        out("version", AppInfoParser.getVersion(), "AppInfoParser.getVersion()");

        probe("idem", "KafkaProducer(enable.idempotence=true)", () -> {
            Properties pp = producerProps();
            pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
            try (KafkaProducer<String, String> p = new KafkaProducer<>(pp)) {
                for (int i = 0; i < 5; i++) p.send(new ProducerRecord<>(topic("idem"), 0, "k-" + i, "v"));
                p.flush();
            }
            return null;
        });

        probe("txn", "KafkaProducer(transactional.id=...)", () -> {
            Properties pp = producerProps();
            pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txid("txn"));
            try (KafkaProducer<String, String> p = new KafkaProducer<>(pp)) {
                p.initTransactions();
                p.beginTransaction();
                for (int i = 0; i < 3; i++) p.send(new ProducerRecord<>(topic("txn"), 0, "a-" + i, "a-" + i));
                p.flush();
                p.abortTransaction();
                p.beginTransaction();
                for (int i = 0; i < 3; i++) p.send(new ProducerRecord<>(topic("txn"), 0, "c-" + i, "c-" + i));
                p.commitTransaction();
            }
            return null;
        });

        probe("rc", "KafkaConsumer(isolation.level=read_committed)", () -> {
            Properties cp = consumerProps(null);
            cp.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            List<String> keys = new ArrayList<>();
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cp)) {
                TopicPartition tp = new TopicPartition(topic("rc"), 0);
                c.assign(List.of(tp));
                c.seekToBeginning(List.of(tp));
                long end = c.endOffsets(List.of(tp)).get(tp); // the last stable offset, read_committed
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (c.position(tp) < end && System.nanoTime() < deadline) {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500)))
                        keys.add(r.key() == null || r.key().isEmpty() ? "<empty>" : r.key());
                }
                // Nothing more comes after the end.
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(1000)))
                    keys.add(r.key() == null || r.key().isEmpty() ? "<empty>" : r.key());
            }
            return String.join(",", keys);
        });

        probe("eos", "KafkaConsumer in a group, KafkaProducer.sendOffsetsToTransaction(offsets, consumer.groupMetadata())", () -> {
            Properties cp = consumerProps(group("txn-offsets"));
            cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
            cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            cp.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            Properties pp = producerProps();
            pp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txid("txn-offsets"));
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cp);
                 KafkaProducer<String, String> p = new KafkaProducer<>(pp)) {
                c.subscribe(List.of(topic("in")));
                List<ConsumerRecord<String, String>> in = poll(c, 3);
                if (in.size() < 3) throw new IllegalStateException("read " + in.size() + " of 3 input records within 30s");
                p.initTransactions();
                p.beginTransaction();
                Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                for (ConsumerRecord<String, String> r : in) {
                    p.send(new ProducerRecord<>(topic("out"), 0, "o-" + r.key().substring(2), r.value()));
                    offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                }
                p.sendOffsetsToTransaction(offsets, c.groupMetadata());
                p.commitTransaction();
            }
            return null;
        });

        probe("kip848", "KafkaConsumer(group.protocol=consumer)", () -> {
            Properties cp = consumerProps(group("kip-848"));
            cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
            cp.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cp)) {
                c.subscribe(List.of(topic("in")));
                return "ok " + poll(c, 1).size();
            }
        });

        ProducerConfig pc = new ProducerConfig(producerProps());
        out("acks", pc.getString(ProducerConfig.ACKS_CONFIG), "new ProducerConfig(props).getString(\"acks\")");
        out("retries", pc.getInt(ProducerConfig.RETRIES_CONFIG), "new ProducerConfig(props).getInt(\"retries\")");
        out("idempotence", pc.getBoolean(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG), "new ProducerConfig(props).getBoolean(\"enable.idempotence\")");
        ConsumerConfig cc = new ConsumerConfig(consumerProps(group("defaults")));
        out("auto_commit", cc.getBoolean(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG), "new ConsumerConfig(props with group.id).getBoolean(\"enable.auto.commit\")");
        out("auto_commit_interval", cc.getInt(ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG) + " ms", "new ConsumerConfig(props with group.id).getInt(\"auto.commit.interval.ms\")");
        out("isolation", cc.getString(ConsumerConfig.ISOLATION_LEVEL_CONFIG), "new ConsumerConfig(props with group.id).getString(\"isolation.level\")");
    }
}
