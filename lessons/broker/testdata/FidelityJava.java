// A Java learner's first program, against the lab's broker: the official
// Apache Kafka client (kafka-clients 4.4.0, the jars .ci/java-deps caches).
// Run as a single-file program:
//
//   java -cp '<libs>/*' FidelityJava.java BOOTSTRAP TOPIC
//
// Each check prints one line "RESULT <name> <value>" that
// lessons/broker/fidelity_java_test.go asserts; a check that throws prints
// "RESULT <name> ERROR <exception>" and the program goes on, so one gap does
// not hide the others. The exit code is 0 unless the program itself broke.

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class FidelityJava {
    interface Check {
        Object run() throws Exception;
    }

    static void check(String name, Check c) {
        String out;
        try {
            out = String.valueOf(c.run());
        } catch (Throwable t) {
            Throwable cause = t;
            while (cause.getCause() != null && cause != cause.getCause()) cause = cause.getCause();
            out = "ERROR " + t + (cause != t ? " caused by " + cause : "");
            StackTraceElement[] st = cause.getStackTrace();
            if (st.length > 0) out += " at " + st[0];
        }
        System.out.println("RESULT " + name + " " + out.replace('\n', ' '));
        System.out.flush();
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0], topic = args[1];
        String txnTopic = topic + ".txn";

        Properties ap = new Properties();
        ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        ap.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "20000");
        ap.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        try (Admin admin = Admin.create(ap)) {
            // The first thing a Java learner does: create a topic.
            CreateTopicsResult created = admin.createTopics(List.of(
                    new NewTopic(topic, 1, (short) 1),
                    new NewTopic(txnTopic, 1, (short) 1)));
            check("create_topics", () -> {
                created.all().get(30, TimeUnit.SECONDS);
                return "ok";
            });
            check("create_num_partitions", () -> created.numPartitions(topic).get());
            check("create_replication_factor", () -> created.replicationFactor(topic).get());
            check("create_config_has_cleanup_policy", () -> {
                Config cfg = created.config(topic).get();
                ConfigEntry e = cfg.get("cleanup.policy");
                return e == null ? "missing (" + cfg.entries().size() + " entries)" : e.value();
            });
            check("create_again", () -> {
                try {
                    admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
                    return "created twice";
                } catch (java.util.concurrent.ExecutionException e) {
                    return e.getCause().getClass().getSimpleName();
                }
            });
            check("list_topics", () -> admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(topic));
            check("describe_topic", () -> {
                TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
                return d.partitions().size() + " " + (d.partitions().get(0).leader() != null);
            });
            check("describe_cluster", () -> {
                DescribeClusterResult r = admin.describeCluster();
                return r.nodes().get(30, TimeUnit.SECONDS).size() + " "
                        + (r.controller().get(30, TimeUnit.SECONDS) != null) + " "
                        + (r.clusterId().get(30, TimeUnit.SECONDS) != null);
            });
            check("describe_configs_retention_ms", () -> {
                ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
                Map<ConfigResource, Config> m = admin.describeConfigs(List.of(res)).all().get(30, TimeUnit.SECONDS);
                ConfigEntry e = m.get(res).get("retention.ms");
                return e == null ? "missing" : e.value();
            });
        }

        // Produce one record with the defaults (idempotent, acks=all).
        Properties pp = new Properties();
        pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        pp.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
        pp.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        try (KafkaProducer<String, String> p = new KafkaProducer<>(pp)) {
            check("produce", () -> {
                RecordMetadata md = p.send(new ProducerRecord<>(topic, "k-1", "hello")).get(30, TimeUnit.SECONDS);
                return md.partition() + ":" + md.offset();
            });
        }

        // Consume it in a group, with each group protocol.
        for (String protocol : List.of("classic", "consumer")) {
            check("consume_" + protocol, () -> {
                List<String> got = consume(bootstrap, topic, topic + "." + protocol, protocol, "read_uncommitted", 1);
                return String.join(",", got);
            });
        }

        // A transaction committed (2 records) and one aborted (1 record):
        // read_committed sees exactly the committed two.
        Properties tp = new Properties();
        tp.putAll(pp);
        tp.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, txnTopic + ".tx");
        tp.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
        check("transactions", () -> {
            try (KafkaProducer<String, String> p = new KafkaProducer<>(tp)) {
                p.initTransactions();
                p.beginTransaction();
                p.send(new ProducerRecord<>(txnTopic, "c-0", "committed"));
                p.send(new ProducerRecord<>(txnTopic, "c-1", "committed"));
                p.commitTransaction();
                p.beginTransaction();
                p.send(new ProducerRecord<>(txnTopic, "a-0", "aborted"));
                p.flush();
                p.abortTransaction();
            }
            return "ok";
        });
        for (String protocol : List.of("classic", "consumer")) {
            check("read_committed_" + protocol, () -> {
                List<String> got = consume(bootstrap, txnTopic, txnTopic + "." + protocol, protocol, "read_committed", 2);
                return String.join(",", got);
            });
        }
        try (Admin admin = Admin.create(ap)) {
            check("list_groups", () -> {
                Set<String> ids = new TreeSet<>();
                admin.listGroups().all().get(30, TimeUnit.SECONDS).forEach(g -> ids.add(g.groupId()));
                return ids.contains(topic + ".classic") && ids.contains(topic + ".consumer");
            });
            check("describe_groups", () -> {
                var d = admin.describeConsumerGroups(List.of(topic + ".classic", topic + ".consumer")).all().get(30, TimeUnit.SECONDS);
                return d.get(topic + ".classic").type() + " " + d.get(topic + ".consumer").type();
            });
            check("group_offsets", () -> admin.listConsumerGroupOffsets(topic + ".classic").partitionsToOffsetAndMetadata()
                    .get(30, TimeUnit.SECONDS).get(new org.apache.kafka.common.TopicPartition(topic, 0)).offset());
            check("list_offsets", () -> admin.listOffsets(Map.of(new org.apache.kafka.common.TopicPartition(topic, 0),
                    org.apache.kafka.clients.admin.OffsetSpec.latest())).all().get(30, TimeUnit.SECONDS)
                    .get(new org.apache.kafka.common.TopicPartition(topic, 0)).offset());
            check("client_quotas", () -> admin.describeClientQuotas(org.apache.kafka.common.quota.ClientQuotaFilter.all())
                    .entities().get(30, TimeUnit.SECONDS).size());
            check("list_transactions", () -> admin.listTransactions().all().get(30, TimeUnit.SECONDS).stream()
                    .anyMatch(l -> l.transactionalId().equals(txnTopic + ".tx")));
            check("describe_transactions", () -> admin.describeTransactions(List.of(txnTopic + ".tx")).all()
                    .get(30, TimeUnit.SECONDS).get(txnTopic + ".tx").state());
            check("describe_producers", () -> admin.describeProducers(List.of(new org.apache.kafka.common.TopicPartition(topic, 0)))
                    .all().get(30, TimeUnit.SECONDS).get(new org.apache.kafka.common.TopicPartition(topic, 0)).activeProducers().size());
            check("describe_log_dirs", () -> admin.describeLogDirs(List.of(admin.describeCluster().nodes().get().iterator().next().id()))
                    .allDescriptions().get(30, TimeUnit.SECONDS).size());
            check("features", () -> admin.describeFeatures().featureMetadata().get(30, TimeUnit.SECONDS).finalizedFeatures().containsKey("transaction.version"));
            check("delete_topic", () -> {
                admin.deleteTopics(List.of(txnTopic)).all().get(30, TimeUnit.SECONDS);
                return "ok";
            });
        }
        System.out.println("RESULT done");
    }

    // Reads from the start in a consumer group until it has want records,
    // then polls once more (a record past want would show up), commits and
    // returns the keys read.
    static List<String> consume(String bootstrap, String topic, String group, String protocol,
            String isolation, int want) throws Exception {
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        cp.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        cp.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol);
        cp.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        cp.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        cp.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        cp.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        cp.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<String> keys = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cp)) {
            c.subscribe(List.of(topic));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (keys.size() < want && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) keys.add(r.key());
            }
            if (keys.size() < want) throw new IllegalStateException("read " + keys + " in 30 s, want " + want + " records");
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) keys.add(r.key());
            c.commitSync(Duration.ofSeconds(10));
        }
        return keys;
    }
}
