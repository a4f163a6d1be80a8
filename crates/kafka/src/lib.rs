//! Kafka as cadre's event source.
//!
//! A [`Source`] is one member of a consumer group on the events topic, and
//! cadre's [`cadre_ingest::Source`]: the engine reads a batch from it
//! ([`cadre_ingest::Source::read_batch`]), stores it, and only then settles
//! it ([`cadre_ingest::Source::settle`]): the events the store rejected go to
//! the dead-letter topic with the reason in headers, and then the batch's
//! offsets are committed. An offset is therefore committed
//! only after the events it covers are durably stored or dead-lettered; a
//! crash in between redelivers them, and the store recognises them by
//! `event_id` as duplicates, so every event counts exactly once. When the
//! group rebalances while a batch is being read, messages from partitions
//! taken away are dropped unstored: their new owner reads them from the last
//! commit.
//!
//! [`produce`] publishes NDJSON lines keyed by `subject`, so each employee's
//! (and each position's) events stay in order in one partition.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cadre_ingest::{parse_line, Batch, Item, Outcome};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::message::{DeliveryResult, Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, Producer, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::TopicPartitionList;
use serde::{Deserialize, Serialize};

/// The `[kafka]` table of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// Bootstrap servers, comma-separated.
    pub brokers: String,
    /// The events topic.
    pub topic: String,
    /// Where invalid events go, with the reason in headers.
    pub dlq_topic: String,
    /// The consumer group: instances in one group share the partitions.
    pub group: String,
    /// Partitions of the topics when cadre creates them.
    pub partitions: i32,
    /// Most messages stored per batch (one fsync and one commit each).
    pub batch_size: usize,
    /// Longest wait to fill a batch, in milliseconds.
    pub batch_wait_ms: u64,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: "127.0.0.1:9092".into(),
            topic: "cadre.events".into(),
            dlq_topic: "cadre.events.dlq".into(),
            group: "cadre".into(),
            partitions: 3,
            batch_size: 1000,
            batch_wait_ms: 200,
        }
    }
}

/// What can go wrong talking to Kafka; a batch not settled is not
/// committed, and is read again.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The client failed.
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    /// A dead letter could not be published: the batch is not committed.
    #[error("cannot publish to the dead-letter topic {topic}: {reason}")]
    DeadLetter {
        /// The topic.
        topic: String,
        /// Why.
        reason: String,
    },
    /// A topic could not be created.
    #[error("cannot create topic {0}: {1}")]
    Topic(String, String),
}

fn client(brokers: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", brokers)
        .set("broker.address.family", "v4");
    c
}

/// Creates the topics if they do not exist yet (brokers that do not create
/// topics on first use need this).
pub fn ensure_topics(cfg: &KafkaConfig) -> Result<(), SourceError> {
    let admin: AdminClient<_> = client(&cfg.brokers).create()?;
    let topics = [
        NewTopic::new(&cfg.topic, cfg.partitions, TopicReplication::Fixed(1)),
        NewTopic::new(&cfg.dlq_topic, 1, TopicReplication::Fixed(1)),
    ];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SourceError::Topic(cfg.topic.clone(), e.to_string()))?;
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let results = rt.block_on(admin.create_topics(topics.iter(), &opts))?;
    for r in results {
        match r {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => return Err(SourceError::Topic(name, code.to_string())),
        }
    }
    Ok(())
}

/// Remembers partitions taken away during a rebalance.
#[derive(Default)]
struct Revocations(Mutex<HashSet<(String, i32)>>);

impl ClientContext for Revocations {}

impl ConsumerContext for Revocations {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        tracing::debug!(?rebalance, "rebalance");
        if let Rebalance::Revoke(tpl) = rebalance {
            let mut r = self.0.lock().unwrap_or_else(|p| p.into_inner());
            for e in tpl.elements() {
                r.insert((e.topic().to_string(), e.partition()));
            }
        }
    }
}

/// Counts failed deliveries of a producer.
#[derive(Default)]
struct Deliveries(Mutex<Vec<String>>);

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(e.to_string());
        }
    }
}

/// An idempotent producer that waits for every replica. One record per
/// batch: some Kafka-protocol brokers (tansu 0.6 with memory storage) serve a
/// fetch only from a record batch's first offset, so a consumer resuming at a
/// commit inside a batch would miss records; single-record batches make every
/// offset a batch boundary, at some cost in throughput.
fn producer(brokers: &str) -> Result<ThreadedProducer<Deliveries>, KafkaError> {
    client(brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        // one record per produce request: with batches of several records the
        // test of a consumer killed mid-stream (tests/kafka.rs) finds events
        // missing against tansu 0.6, broker or consumer not yet known; slow
        // (docs/performance.md) but sound
        .set("batch.num.messages", "1")
        .create_with_context(Deliveries::default())
}

/// Sends one record, waiting while the local queue is full.
fn send(
    p: &ThreadedProducer<Deliveries>,
    mut record: BaseRecord<'_, [u8], [u8]>,
) -> Result<(), KafkaError> {
    loop {
        match p.send(record) {
            Ok(()) => return Ok(()),
            Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                record = r;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err((e, _)) => return Err(e),
        }
    }
}

/// Waits until every record sent is acknowledged; the failures, if any.
fn flush(p: &ThreadedProducer<Deliveries>) -> Result<(), String> {
    p.flush(Duration::from_secs(60))
        .map_err(|e| e.to_string())?;
    let mut failed = p.context().0.lock().unwrap_or_else(|e| e.into_inner());
    if failed.is_empty() {
        Ok(())
    } else {
        let n = failed.len();
        let first = failed.remove(0);
        failed.clear();
        Err(format!("{n} records not delivered, first: {first}"))
    }
}

/// One member of the consumer group.
pub struct Source {
    cfg: KafkaConfig,
    consumer: BaseConsumer<Revocations>,
    dlq: ThreadedProducer<Deliveries>,
    /// Partitions revoked since we last checked where they resume.
    resync: HashSet<i32>,
    /// Partitions already sought back to their commit once in this resync.
    sought: HashSet<i32>,
    /// The batch read and not yet settled.
    pending: Vec<Read>,
}

/// A message read, before it is stored.
struct Read {
    partition: i32,
    offset: i64,
    /// The payload as text (invalid UTF-8 replaced), kept for the dead-letter topic.
    text: String,
}

impl Source {
    /// Joins the group and subscribes to the events topic.
    pub fn new(cfg: &KafkaConfig) -> Result<Source, SourceError> {
        let consumer: BaseConsumer<Revocations> = client(&cfg.brokers)
            .set("group.id", &cfg.group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "10000")
            .create_with_context(Revocations::default())?;
        consumer.subscribe(&[&cfg.topic])?;
        Ok(Source {
            cfg: cfg.clone(),
            consumer,
            dlq: producer(&cfg.brokers)?,
            resync: HashSet::new(),
            sought: HashSet::new(),
            pending: Vec::new(),
        })
    }

    /// Reads up to one batch, waiting at most `wait` for the first message.
    fn read(&mut self, wait: Duration) -> Result<Vec<Item>, SourceError> {
        let mut read: Vec<Read> = Vec::new();
        let mut deadline = Instant::now() + wait;
        while read.len() < self.cfg.batch_size {
            let left = deadline.saturating_duration_since(Instant::now());
            let polled = self.consumer.poll(left).map(|r| r.map(|m| m.detach()));
            // a rebalance runs inside poll: what was read from a partition
            // taken away belongs to its next owner, who reads it again from
            // the last commit (and so do we, if it comes back to us)
            self.drop_revoked(&mut read);
            let Some(m) = polled else {
                break;
            };
            let m = m?;
            if self.resync.contains(&m.partition())
                && !self.resumes_at_commit(m.partition(), m.offset())?
            {
                continue;
            }
            if read.is_empty() {
                deadline = Instant::now() + Duration::from_millis(self.cfg.batch_wait_ms);
            }
            let text = match m.payload() {
                Some(bytes) => String::from_utf8_lossy(bytes).into_owned(),
                None => String::new(),
            };
            read.push(Read {
                partition: m.partition(),
                offset: m.offset(),
                text,
            });
        }
        let items = read
            .iter()
            .enumerate()
            .map(|(i, r)| parse_line(i + 1, &r.text))
            .collect();
        self.pending = read;
        Ok(items)
    }

    /// Sends what the store rejected of the pending batch to the dead-letter
    /// topic, then commits the batch's offsets.
    fn settle_pending(&mut self, batch: &Batch) -> Result<(), SourceError> {
        let read = std::mem::take(&mut self.pending);
        if read.is_empty() {
            return Ok(());
        }
        let mut next: BTreeMap<i32, i64> = BTreeMap::new();
        let mut first: BTreeMap<i32, i64> = BTreeMap::new();
        for r in &read {
            first.entry(r.partition).or_insert(r.offset);
            let n = next.entry(r.partition).or_insert(0);
            *n = (*n).max(r.offset + 1);
        }
        let mut rejected = 0;
        for o in &batch.outcomes {
            match o {
                Outcome::Accepted { .. } | Outcome::Duplicate { .. } => {}
                Outcome::Rejected {
                    position,
                    path,
                    reason,
                    ..
                } => {
                    rejected += 1;
                    let Read {
                        partition,
                        offset,
                        text,
                    } = &read[position - 1];
                    let (part, off) = (partition.to_string(), offset.to_string());
                    let headers = OwnedHeaders::new()
                        .insert(Header {
                            key: "cadre.reason",
                            value: Some(reason.as_str()),
                        })
                        .insert(Header {
                            key: "cadre.path",
                            value: Some(path.as_str()),
                        })
                        .insert(Header {
                            key: "cadre.source.topic",
                            value: Some(self.cfg.topic.as_str()),
                        })
                        .insert(Header {
                            key: "cadre.source.partition",
                            value: Some(part.as_str()),
                        })
                        .insert(Header {
                            key: "cadre.source.offset",
                            value: Some(off.as_str()),
                        });
                    let raw = text.as_bytes();
                    send(
                        &self.dlq,
                        BaseRecord::to(&self.cfg.dlq_topic)
                            .payload(raw)
                            .headers(headers),
                    )?;
                }
            }
        }
        if rejected > 0 {
            flush(&self.dlq).map_err(|reason| SourceError::DeadLetter {
                topic: self.cfg.dlq_topic.clone(),
                reason,
            })?;
        }
        let mut tpl = TopicPartitionList::new();
        for (partition, offset) in next {
            tpl.add_partition_offset(&self.cfg.topic, partition, rdkafka::Offset::Offset(offset))?;
        }
        tracing::debug!(first = ?first, commit = ?tpl, "committing a batch");
        self.consumer.commit(&tpl, CommitMode::Sync)?;
        Ok(())
    }

    /// Forgets messages of partitions revoked since the last call.
    fn drop_revoked(&mut self, read: &mut Vec<Read>) {
        let revoked = std::mem::take(
            &mut *self
                .consumer
                .context()
                .0
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        let ours: HashSet<i32> = revoked
            .iter()
            .filter(|(t, _)| *t == self.cfg.topic)
            .map(|(_, p)| *p)
            .collect();
        if !ours.is_empty() {
            read.retain(|r| !ours.contains(&r.partition));
            self.resync.extend(ours);
        }
    }

    /// After a revocation, a partition that comes back must resume at the
    /// group's committed offset, not where this member's fetcher was: checks
    /// the first message read from it again, and seeks back (dropping the
    /// message) when it is past the commit.
    fn resumes_at_commit(&mut self, partition: i32, offset: i64) -> Result<bool, SourceError> {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(&self.cfg.topic, partition);
        let committed = self
            .consumer
            .committed_offsets(tpl, Duration::from_secs(10))?;
        let at = committed
            .elements()
            .first()
            .and_then(|e| e.offset().to_raw())
            .filter(|o| *o >= 0);
        match at {
            Some(c) if c < offset && self.sought.insert(partition) => {
                tracing::debug!(partition, offset, committed = c, "resuming at the commit");
                self.consumer.seek(
                    &self.cfg.topic,
                    partition,
                    rdkafka::Offset::Offset(c),
                    Duration::from_secs(10),
                )?;
                Ok(false)
            }
            _ => {
                if at.is_some_and(|c| c < offset) {
                    tracing::warn!(
                        partition,
                        offset,
                        committed = ?at,
                        "the broker resumes past the committed offset (compaction, transaction markers, or a broker that serves only whole record batches)"
                    );
                }
                self.resync.remove(&partition);
                self.sought.remove(&partition);
                Ok(true)
            }
        }
    }

    /// Whether the group has given this member any partition yet.
    pub fn assigned(&self) -> bool {
        self.consumer.assignment().is_ok_and(|a| a.count() > 0)
    }

    /// Lag per partition of the assignment: the high watermark minus the committed position.
    pub fn lag(&self) -> Result<Vec<(i32, i64)>, SourceError> {
        let assigned = self.consumer.assignment()?;
        let committed = self
            .consumer
            .committed_offsets(assigned.clone(), Duration::from_secs(5))?;
        let mut out = Vec::new();
        for e in committed.elements() {
            let (_, high) =
                self.consumer
                    .fetch_watermarks(e.topic(), e.partition(), Duration::from_secs(5))?;
            let at = e.offset().to_raw().filter(|o| *o >= 0).unwrap_or(0);
            out.push((e.partition(), (high - at).max(0)));
        }
        Ok(out)
    }
}

impl cadre_ingest::Source for Source {
    type Error = SourceError;

    fn channel(&self) -> &str {
        "kafka"
    }

    fn read_batch(&mut self, wait: Duration) -> Result<Vec<Item>, SourceError> {
        self.read(wait)
    }

    fn settle(&mut self, batch: &Batch) -> Result<(), SourceError> {
        self.settle_pending(batch)
    }

    fn ready(&self) -> bool {
        self.assigned()
    }

    fn lag(&mut self) -> Result<Vec<(i32, i64)>, SourceError> {
        Source::lag(self)
    }
}

/// Whether an event type (by its wire name) describes the organisation
/// rather than one person ([`cadre_model::EventType::describes_organisation`]):
/// every instance needs those, so they go to every partition.
pub fn is_reference(event_type: &str) -> bool {
    cadre_model::EventType::parse(event_type).is_some_and(|t| t.describes_organisation())
}

/// Publishes NDJSON lines to the events topic, keyed by each event's
/// `subject` so that one employee's events stay in order in one partition.
/// Reference events ([`is_reference`]) go to every partition, ahead of
/// what follows them in the file, so that each instance of a consumer group
/// knows the frameworks, units, roles and positions; instances store each
/// once (same `event_id`). Lines that are not JSON objects with a subject go
/// unkeyed and are rejected by the consumer, into the dead-letter topic.
/// Returns the number of lines published once every one is acknowledged.
pub fn produce<'a>(
    cfg: &KafkaConfig,
    lines: impl Iterator<Item = std::io::Result<String>>,
    mut progress: impl FnMut(u64, usize) + 'a,
) -> Result<u64, ProduceError> {
    let p = producer(&cfg.brokers)?;
    let partitions = p
        .client()
        .fetch_metadata(Some(&cfg.topic), Duration::from_secs(10))?
        .topics()
        .first()
        .map_or(0, |t| t.partitions().len() as i32);
    let mut n = 0u64;
    for line in lines {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let v = serde_json::from_str::<serde_json::Value>(&line).ok();
        let field = |f: &str| {
            v.as_ref()
                .and_then(|v| v.get(f))
                .and_then(|s| s.as_str())
                .map(str::to_string)
        };
        let key = field("subject");
        let reference = field("type").is_some_and(|t| is_reference(&t));
        let targets: Vec<Option<i32>> = if reference && partitions > 1 {
            (0..partitions).map(Some).collect()
        } else {
            vec![None]
        };
        for target in targets {
            let mut record = BaseRecord::<[u8], [u8]>::to(&cfg.topic).payload(line.as_bytes());
            if let Some(k) = &key {
                record = record.key(k.as_bytes());
            }
            if let Some(part) = target {
                record = record.partition(part);
            }
            send(&p, record)?;
        }
        n += 1;
        progress(n, line.len() + 1);
    }
    flush(&p).map_err(ProduceError::Delivery)?;
    Ok(n)
}

/// Why producing failed.
#[derive(Debug, thiserror::Error)]
pub enum ProduceError {
    /// The client failed.
    #[error("kafka: {0}")]
    Kafka(#[from] KafkaError),
    /// Reading the input failed.
    #[error("cannot read the input: {0}")]
    Read(#[from] std::io::Error),
    /// Some records were not acknowledged by the broker.
    #[error("not every event was acknowledged: {0}")]
    Delivery(String),
}

/// A message of the dead-letter topic: the event as received and its headers.
pub type DeadLetterMessage = (String, BTreeMap<String, String>);

/// Reads the dead-letter topic from the start: (payload, headers) of each
/// message, waiting up to `wait` for more. For operators and tests.
pub fn read_dead_letters(
    cfg: &KafkaConfig,
    wait: Duration,
) -> Result<Vec<DeadLetterMessage>, SourceError> {
    use rdkafka::message::Headers;
    let consumer: BaseConsumer = client(&cfg.brokers)
        .set("group.id", format!("{}.dlq-reader", cfg.group))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&cfg.dlq_topic, 0, rdkafka::Offset::Beginning)?;
    consumer.assign(&tpl)?;
    let mut out = Vec::new();
    while let Some(m) = consumer.poll(wait) {
        let m = m?;
        let mut headers = BTreeMap::new();
        if let Some(h) = m.headers() {
            for x in h.iter() {
                headers.insert(
                    x.key.to_string(),
                    String::from_utf8_lossy(x.value.unwrap_or_default()).into_owned(),
                );
            }
        }
        let payload = String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned();
        out.push((payload, headers));
    }
    Ok(out)
}
