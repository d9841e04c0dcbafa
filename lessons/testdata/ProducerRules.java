import java.io.*;
import java.util.*;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.serialization.StringSerializer;

// Reads lines "acks retries idempotent max_in_flight transactional" and
// answers, per line, "ok" or "refused <message>": what the Java client's
// ProducerConfig says of those settings, without any broker.
class ProducerRules {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        for (String line; (line = in.readLine()) != null; ) {
            String[] f = line.trim().split(" ");
            Map<String, Object> p = new HashMap<>();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
            p.put(ProducerConfig.ACKS_CONFIG, f[0]);
            p.put(ProducerConfig.RETRIES_CONFIG, Integer.parseInt(f[1]));
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, Boolean.parseBoolean(f[2]));
            p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, Integer.parseInt(f[3]));
            if (Boolean.parseBoolean(f[4])) p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "producer-1");
            try {
                new ProducerConfig(p);
                System.out.println("ok");
            } catch (ConfigException e) {
                System.out.println("refused " + e.getMessage());
            }
        }
    }
}
