# INTENTIONALLY WRONG: the seed material's exactly-once producer, as written
# (only the broker address and topic now come from the command line). It calls
# begin_transaction() without init_transactions() first, so the producer has
# no producer id / epoch yet and kafka-python 3 refuses, raising
#   KafkaError: TransactionalId unique_transaction_id: Invalid transition
#   attempted from state UNINITIALIZED to state IN_TRANSACTION
# begin_transaction() is outside the try, so the program dies with that
# traceback. The fix: producer.init_transactions() once, right after creating
# the producer (see producer.py).
import argparse

from kafka import KafkaProducer
from kafka.errors import KafkaError

p = argparse.ArgumentParser()
p.add_argument("--bootstrap", default="localhost:9092")
p.add_argument("--topic", default="test_topic")
args = p.parse_args()

producer = KafkaProducer(
    bootstrap_servers=args.bootstrap,
    acks='all',  # 모든 브로커가 메시지를 받았을 때만 응답을 받음
    enable_idempotence=True,  # 중복 방지
    transactional_id='unique_transaction_id'  # 트랜잭션 설정
)

producer.begin_transaction()  # 트랜잭션 시작

try:
    producer.send(args.topic, value=b'Hello, Kafka!')
    producer.commit_transaction()  # 트랜잭션 커밋
    print("Message sent successfully")
except KafkaError as e:
    producer.abort_transaction()  # 오류가 발생하면 트랜잭션 롤백
    print(f"Error sending message: {e}")

producer.close()
