package lessons

// Client names a Kafka client library a run uses.
type Client string

const (
	KafkaGo Client = "kafka-go" // github.com/segmentio/kafka-go
	FranzGo Client = "franz-go" // github.com/twmb/franz-go/pkg/kgo
)

// Module is the client's Go module path.
func (c Client) Module() string {
	if c == FranzGo {
		return "github.com/twmb/franz-go"
	}
	return "github.com/segmentio/kafka-go"
}

// Acks is how many replicas must have a write before the producer is told
// it succeeded.
type Acks string

const (
	AcksLeader Acks = "1"   // the leader alone
	AcksAll    Acks = "all" // every in-sync replica
)

// Isolation is what a consumer reads of transactional writes.
type Isolation string

const (
	ReadUncommitted Isolation = "read_uncommitted"
	ReadCommitted   Isolation = "read_committed"
)

// Commit is when the processor stores its consumer group offsets, relative
// to crediting the records they cover.
type Commit string

const (
	// CommitBefore commits a batch, then credits it: a crash between the
	// two loses the uncredited rest (at-most-once).
	CommitBefore Commit = "before"
	// CommitAfter credits a batch, then commits it: a crash between the
	// two credits it again (at-least-once).
	CommitAfter Commit = "after"
	// CommitEach credits one record and commits it, then the next: the
	// seed's at-least-once consumer, with a commit round trip per record.
	CommitEach Commit = "each"
	// CommitAuto leaves commits to the client's timer (enable.auto.commit),
	// which stores the offsets of records already handed to the loop.
	CommitAuto Commit = "auto"
	// CommitInTransaction sends the offsets to the transaction that writes
	// the credits: both become visible, or neither.
	CommitInTransaction Commit = "transaction"
)

// Recipe is how one guarantee's preset configures its pipeline: the
// client, the producer's settings and the processor's read and commit.
// A new preset is one row here, one row per fault in the claim table, and
// its mechanism in package pipeline if it needs a new one.
type Recipe struct {
	Guarantee GuaranteeID `json:"guarantee"`
	Preset    PresetID    `json:"preset"`
	Client    Client      `json:"client"`
	Acks      Acks        `json:"acks"`
	// Attempts counts a send's first try (kafka-go's MaxAttempts); 0 is
	// franz-go's default, retrying until the delivery timeout.
	Attempts      int       `json:"attempts"`
	Idempotent    bool      `json:"idempotent"`
	Transactional bool      `json:"transactional"`
	Isolation     Isolation `json:"isolation"`
	Commit        Commit    `json:"commit"`
	// AutoCommitMs is the auto-commit timer's period, for CommitAuto.
	AutoCommitMs int `json:"auto_commit_ms,omitempty"`
	// Dedup makes the processor an idempotent consumer: it keeps the set
	// of deposits it has credited, restores it from the ledger topic
	// before an instance processes anything, and skips a delivery of a
	// deposit already credited, writing no credit. Only the kafka-go
	// processor has it.
	Dedup bool `json:"dedup,omitempty"`
	// CommitOnRevoke, with Commit after, commits what the processor
	// credited when the group takes its partitions away, before it lets
	// them go: Java's ConsumerRebalanceListener.onPartitionsRevoked with
	// commitSync. The kafka-go processor then reads through kafka-go's
	// ConsumerGroup and Generation, as its Reader has no such callback.
	CommitOnRevoke bool `json:"commit_on_revoke,omitempty"`
	// MinInsync is the input topic's min.insync.replicas in cluster mode:
	// how many in-sync replicas, the leader counted, an acks=all write
	// needs. 0 is the lab's 2; the common at-least-once preset has
	// Kafka's default, 1, with which acks=all is acknowledged by the
	// leader alone once its followers are out of the in-sync set.
	MinInsync int `json:"min_insync_replicas,omitempty"`
}

// MinInsyncReplicas is the input topic's min.insync.replicas in cluster
// mode (MinInsync, 2 when unset).
func (r Recipe) MinInsyncReplicas() int {
	if r.MinInsync > 0 {
		return r.MinInsync
	}
	return 2
}

// recipes lists one row per guarantee and preset.
var recipes = []Recipe{
	{Guarantee: AtMostOnce, Preset: Strict, Client: KafkaGo, Acks: AcksLeader, Attempts: 1, Isolation: ReadUncommitted, Commit: CommitBefore},
	// The seed's consumer sets enable_auto_commit=True.
	{Guarantee: AtMostOnce, Preset: Common, Client: KafkaGo, Acks: AcksLeader, Attempts: 1, Isolation: ReadUncommitted, Commit: CommitAuto, AutoCommitMs: 1000},
	// It commits on revocation: a rebalance hands the next owner no
	// credited, uncommitted records.
	{Guarantee: AtLeastOnce, Preset: Strict, Client: KafkaGo, Acks: AcksAll, Attempts: 10, Isolation: ReadUncommitted, Commit: CommitAfter, CommitOnRevoke: true},
	// The seed's consumer commits after each record; the topic keeps
	// Kafka's default min.insync.replicas=1.
	{Guarantee: AtLeastOnce, Preset: Common, Client: KafkaGo, Acks: AcksAll, Attempts: 10, Isolation: ReadUncommitted, Commit: CommitEach, MinInsync: 1},
	// strict's producer and commits, on revocation too, plus an
	// idempotent consumer: the repeats at-least-once lets through are
	// skipped by deposit id.
	{Guarantee: AtLeastOnce, Preset: Dedup, Client: KafkaGo, Acks: AcksAll, Attempts: 10, Isolation: ReadUncommitted, Commit: CommitAfter, Dedup: true, CommitOnRevoke: true},
	{Guarantee: ExactlyOnce, Preset: Strict, Client: FranzGo, Acks: AcksAll, Idempotent: true, Transactional: true, Isolation: ReadCommitted, Commit: CommitInTransaction},
	// The seed's consumer auto-commits and is outside the transaction.
	{Guarantee: ExactlyOnce, Preset: Common, Client: FranzGo, Acks: AcksAll, Idempotent: true, Transactional: true, Isolation: ReadUncommitted, Commit: CommitAuto, AutoCommitMs: 1000},
}

// LookupRecipe returns the recipe of guarantee g's preset p.
func LookupRecipe(g GuaranteeID, p PresetID) (Recipe, bool) {
	for _, r := range recipes {
		if r.Guarantee == g && r.Preset == p {
			return r, true
		}
	}
	return Recipe{}, false
}

// Recipes lists every recipe, by guarantee and preset.
func Recipes() []Recipe { return append([]Recipe(nil), recipes...) }
