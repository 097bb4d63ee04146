use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// xueliang: video analytics for traffic and public-security cameras.
#[derive(Debug, Parser)]
#[command(name = "xl", version, about, propagate_version = true)]
pub struct Cli {
    /// More log output (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve simulated RTSP cameras with synthetic road scenes and known plates.
    Sim(SimArgs),
    /// Run the pipeline for the cameras in a config file.
    Run(RunArgs),
    /// The HTTP API, command view and webhook dispatcher over a config's store, without
    /// pipelines; the live feed follows the store.
    Serve(ServeArgs),
    /// Simulator + pipeline + store on embedded defaults, printing plate reads as they happen.
    Demo(DemoArgs),
    /// Re-run a pipeline over image and video files or folders; JSONL events out.
    Reanalyze(ReanalyzeArgs),
    /// Search stored events.
    Events {
        #[command(subcommand)]
        command: EventsCommand,
    },
    /// Score events against simulator truth.
    Eval {
        #[command(subcommand)]
        command: EvalCommand,
    },
    /// Vehicle flow counts (per count line, direction, class and interval).
    Flow {
        #[command(subcommand)]
        command: FlowCommand,
    },
    /// Camera state as last reported by the running pipeline.
    Cameras {
        #[command(subcommand)]
        command: CamerasCommand,
    },
    /// Move old events to the cold tier and delete expired ones, per the config's [retention].
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
    /// Departments of the sharing model (分用户、分级、分权限).
    Departments {
        #[command(subcommand)]
        command: DepartmentsCommand,
    },
    /// Users: one department and one role each (viewer, analyst, supervisor, admin).
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Grants: one department sees another's cameras (up to a share level, some kinds, masks).
    Grants {
        #[command(subcommand)]
        command: GrantsCommand,
    },
    /// API bearer tokens (stored hashed; the secret is shown once).
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// The hash-chained audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Webhook, NATS JetStream and MQTT subscriptions: signed, retried, at-least-once delivery.
    Hooks {
        #[command(subcommand)]
        command: HooksCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum HooksCommand {
    /// Subscribe a target to events; prints the subscription and its signing secret (once).
    Create {
        #[command(flatten)]
        store: StoreArgs,
        /// The user it acts for: only events this user may see are sent, with their masks.
        #[arg(long)]
        user: String,
        /// http(s)://..., nats://HOST:PORT/SUBJECT.PREFIX?stream=NAME or mqtt://HOST:PORT/TOPIC/PREFIX.
        #[arg(long)]
        url: String,
        /// Event kind to send (repeatable; default every kind).
        #[arg(long = "kind")]
        kinds: Vec<String>,
        /// Camera id to send (repeatable; default every camera).
        #[arg(long = "camera")]
        cameras: Vec<String>,
        /// Plate to send, or a prefix ending in * such as 皖S* (repeatable; default any).
        #[arg(long = "plate")]
        plates: Vec<String>,
        /// Deliveries in flight at once (at most one per camera, which keeps each camera's order).
        #[arg(long, default_value_t = 8)]
        max_in_flight: u32,
    },
    /// Subscriptions with their delivery counts (pending, retrying, delivered, dead), JSON lines.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Stop delivering; events keep queueing and go out after `resume`.
    Pause {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
    },
    Resume {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
    },
    /// Stop queueing and delivering for good.
    Delete {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
    },
    /// Queue again the dead letters (--dead) or everything sent in a time range.
    Redeliver {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
        /// Every dead letter.
        #[arg(long, conflicts_with_all = ["from", "to"])]
        dead: bool,
        /// RFC 3339 start of the event-time range (inclusive).
        #[arg(long, requires = "to")]
        from: Option<String>,
        /// RFC 3339 end of the event-time range (exclusive).
        #[arg(long, requires = "from")]
        to: Option<String>,
    },
    /// Run only the delivery dispatcher (scale-out: beside pipelines with [hooks] dispatch = false).
    Serve {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum DepartmentsCommand {
    Add {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
        /// Display name (default: the id).
        #[arg(long)]
        name: Option<String>,
    },
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    Add {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
        #[arg(long)]
        department: String,
        /// viewer, analyst, supervisor or admin.
        #[arg(long)]
        role: String,
    },
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Change a user's role, or disable/enable them (a disabled user's tokens stop working).
    Set {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
        #[arg(long)]
        role: Option<String>,
        #[arg(long, conflicts_with = "enable")]
        disable: bool,
        #[arg(long)]
        enable: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum GrantsCommand {
    Create {
        #[command(flatten)]
        store: StoreArgs,
        /// The department whose cameras are shared.
        #[arg(long)]
        from: String,
        /// The department that may see them.
        #[arg(long)]
        to: String,
        /// Cameras up to this share level (1-3).
        #[arg(long)]
        level: u8,
        /// Event kinds, comma-separated (default: every kind).
        #[arg(long, value_delimiter = ',')]
        kinds: Vec<String>,
        /// Plate text partly masked, plate search does not match, evidence withheld.
        #[arg(long)]
        mask_plate: bool,
        /// Evidence images withheld.
        #[arg(long)]
        mask_evidence: bool,
        /// RFC 3339 time after which the grant no longer applies.
        #[arg(long)]
        expires: Option<String>,
    },
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    Revoke {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Issues a token and prints it once (to stdout only; it is never logged).
    Create {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        user: String,
        #[arg(long, default_value = "")]
        label: String,
        /// Days until it expires (default: never).
        #[arg(long)]
        expires_days: Option<u32>,
    },
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    Revoke {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walks the hash chain; exits 1 naming the first edited, deleted or reordered record.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Audit records as JSON lines, oldest first.
    List {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        after: Option<i64>,
        #[arg(long, default_value_t = 1000)]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// One retention run now: hot -> cold moves, then deletions past each kind's lifetime
    /// (with their evidence); prints what it did as JSON.
    Run {
        #[command(flatten)]
        store: StoreArgs,
        /// Act as if it were this time (RFC 3339); default: now.
        #[arg(long)]
        now: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CodecArg {
    H264,
    H265,
}

#[derive(Debug, Args)]
pub struct SimArgs {
    /// Number of cameras, served as rtsp://BIND:PORT/cam/1..N.
    #[arg(long, default_value_t = 4)]
    pub cameras: usize,
    #[arg(long, default_value_t = 8554)]
    pub port: u16,
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// Scenario seed: the same seed gives the same scenes and plates.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also write the enforcement side (rules.toml, watchlist.csv, rules-truth.jsonl) to this
    /// folder and feed weigh-in-motion records into its wim.jsonl in real time.
    #[arg(long)]
    pub world: Option<PathBuf>,
    /// Seconds of rule truth and WIM records generated ahead with --world.
    #[arg(long, default_value_t = 3600)]
    pub world_horizon: u32,
    /// Instead of serving, write recorded footage (cam-<i>.mp4), the world files (world/) with
    /// every WIM record, a system config (xl.toml) and a pipeline with the generated rules
    /// (world/pipeline.toml) to this folder, for `xl reanalyze`.
    #[arg(long)]
    pub export: Option<PathBuf>,
    /// Seconds of footage to export.
    #[arg(long, default_value_t = 600)]
    pub export_secs: u32,
    /// Time of the exported footage's first frame (RFC 3339).
    #[arg(long, default_value = "2026-11-29T09:00:00+08:00")]
    pub export_start: String,
    /// Base pipeline for the exported deployment's pipeline file.
    #[arg(long, default_value = "pipelines/checkpoint.toml")]
    pub pipeline: PathBuf,
    #[arg(long, default_value_t = 1280)]
    pub width: u32,
    #[arg(long, default_value_t = 720)]
    pub height: u32,
    #[arg(long, default_value_t = 25)]
    pub fps: u32,
    #[arg(long, value_enum, default_value_t = CodecArg::H264)]
    pub codec: CodecArg,
    /// Length of each camera's looping clip in seconds.
    #[arg(long, default_value_t = 60)]
    pub clip_secs: u32,
    /// Ground-truth JSONL (camera, plate, colour, vehicle class, visible interval).
    #[arg(long)]
    pub truth: PathBuf,
    /// Pre-encoded clips are cached here.
    #[arg(long, default_value = "var/sim-cache")]
    pub cache_dir: PathBuf,
    /// Stop after this many seconds (default: until Ctrl-C).
    #[arg(long)]
    pub duration: Option<f64>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[arg(long, default_value = "xl.toml")]
    pub config: PathBuf,
    /// Inference worker threads (default: runtime.workers, else one per core).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Stop gracefully after this many seconds (default: until Ctrl-C).
    #[arg(long)]
    pub duration: Option<f64>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[arg(long, default_value = "xl.toml")]
    pub config: PathBuf,
    /// Stop gracefully after this many seconds (default: until Ctrl-C).
    #[arg(long)]
    pub duration: Option<f64>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    #[arg(long, default_value_t = 4)]
    pub cameras: usize,
    #[arg(long, default_value_t = 8554)]
    pub port: u16,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, default_value = "pipelines/checkpoint.toml")]
    pub pipeline: PathBuf,
    /// Where the simulated deployment's rules, watch list, rule truth and WIM feed are written.
    #[arg(long, default_value = "var/demo-world")]
    pub world: PathBuf,
    #[arg(long, default_value = "sqlite://var/xl.db")]
    pub store: String,
    #[arg(long, default_value = "var/evidence")]
    pub evidence: PathBuf,
    #[arg(long, default_value = "var/demo-truth.jsonl")]
    pub truth: PathBuf,
    /// Where the HTTP API (and WIM intake) listens.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    #[arg(long)]
    pub workers: Option<usize>,
    /// Stop gracefully after this many seconds (default: until Ctrl-C).
    #[arg(long)]
    pub duration: Option<f64>,
}

#[derive(Debug, Args)]
pub struct ReanalyzeArgs {
    /// Pipeline file, e.g. pipelines/plates.toml.
    #[arg(long)]
    pub pipeline: PathBuf,
    /// Write JSONL events here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// camera_id written into the events of files that match no camera of --config.
    #[arg(long, default_value = "reanalyze")]
    pub camera: String,
    /// System config whose cameras (ids, positions) the files belong to: a file named
    /// `<camera id>[_-.]...` is that camera's footage. Needed for cloned-plate checks.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Weigh-in-motion records (JSONL, one record per line) for the overload rule.
    #[arg(long)]
    pub wim: Option<PathBuf>,
    /// Time of each file's first frame (RFC 3339); default: the file's modification time.
    #[arg(long)]
    pub start: Option<String>,
    /// Also write evidence JPEGs under this folder.
    #[arg(long)]
    pub evidence: Option<PathBuf>,
    /// Frames analysed per second of video.
    #[arg(long, default_value_t = 5.0)]
    pub sample_fps: f32,
    /// ONNX Runtime library (default: $ORT_DYLIB_PATH, else .cache/lib/...).
    #[arg(long)]
    pub ort_library: Option<PathBuf>,
    /// Images (jpg, png), videos (mp4, mkv, raw .h264/.h265) or folders of them.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Jsonl,
    Table,
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Store URL; default: [store] url of --config.
    #[arg(long)]
    pub store: Option<String>,
    /// System config. A named file must exist; without --config, ./xl.toml is used when it
    /// exists, else the built-in defaults (store sqlite://var/xl.db).
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Events by plate, camera, kind and time range, oldest first.
    Query {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        filters: EventFilters,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Load events (JSON Lines, e.g. `xl reanalyze --out`) into the store through the batched
    /// writer; events already stored are skipped, so an interrupted import can simply be rerun.
    Import {
        #[command(flatten)]
        store: StoreArgs,
        file: PathBuf,
    },
    /// A plate's reads across cameras in time order (hot and cold tiers).
    Trajectory {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        plate: String,
        /// From this time (RFC 3339, inclusive).
        #[arg(long)]
        from: Option<String>,
        /// Until this time (RFC 3339, exclusive).
        #[arg(long)]
        to: Option<String>,
        #[arg(long, default_value_t = 1000)]
        limit: u32,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Plate-read accuracy: plate_read events (JSONL, e.g. from `xl reanalyze` of
    /// `xl sim --export`) against the simulator's plate truth (`xl sim --truth`).
    Plates(EvalArgs),
    /// Precision and recall per rule: events (JSONL, e.g. from `xl reanalyze`) against the
    /// simulator's rules-truth.jsonl.
    Rules(EvalArgs),
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    #[arg(long)]
    pub truth: PathBuf,
    #[arg(long)]
    pub events: PathBuf,
    /// Score from this time (RFC 3339); default: the start of the truth.
    #[arg(long)]
    pub from: Option<String>,
    /// Score until this time (RFC 3339); default: the end of the plate truth, or the last event
    /// for rules.
    #[arg(long)]
    pub to: Option<String>,
    /// Write the scores as JSON here too.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum FlowCommand {
    /// The flow time series, oldest interval first.
    Query {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long)]
        camera: Option<String>,
        /// Count line id.
        #[arg(long)]
        line: Option<String>,
        /// Vehicle class (car, bus, truck, motorcycle) or total.
        #[arg(long)]
        class: Option<String>,
        /// Intervals starting at or after this time (RFC 3339).
        #[arg(long)]
        from: Option<String>,
        /// Intervals starting before this time (RFC 3339).
        #[arg(long)]
        to: Option<String>,
        #[arg(long, default_value_t = 1000)]
        limit: u32,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Debug, Args)]
pub struct EventFilters {
    /// Exact plate text.
    #[arg(long)]
    pub plate: Option<String>,
    /// Plate text starting with this, e.g. 皖S.
    #[arg(long, conflicts_with = "plate")]
    pub plate_prefix: Option<String>,
    #[arg(long)]
    pub camera: Option<String>,
    /// Event kind, e.g. plate_read.
    #[arg(long)]
    pub kind: Option<String>,
    /// From this time (RFC 3339, inclusive).
    #[arg(long)]
    pub from: Option<String>,
    /// Until this time (RFC 3339, exclusive).
    #[arg(long)]
    pub to: Option<String>,
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// Continue after this cursor (printed after a full page): TS_MS:EVENT_ID.
    #[arg(long)]
    pub after: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CamerasCommand {
    /// Registered cameras: owner department, share level, position (no stream URLs).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Change a camera's owner or share level (the config's values win at the next start).
    Set {
        #[command(flatten)]
        store: StoreArgs,
        id: String,
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        level: Option<u8>,
    },
    /// State, last frame, fps, decoded/dropped frames, reconnects and last error per camera.
    Status {
        #[command(flatten)]
        store: StoreArgs,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}
