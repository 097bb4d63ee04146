mod cameras;
mod demo;
mod eval;
mod events;
mod flow;
mod hooks;
mod pipeline_file;
mod reanalyze;
mod retention;
mod run;
mod serve;
mod services;
mod sharing;
mod shutdown;
mod sim;
mod tiers;
mod wim;

use crate::args::{
    CamerasCommand, Cli, Command, EvalCommand, EventsCommand, FlowCommand, RetentionCommand,
};

pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Sim(a) => sim::run(a),
        Command::Run(a) => run::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Demo(a) => demo::run(a),
        Command::Reanalyze(a) => reanalyze::run(a),
        Command::Events {
            command:
                EventsCommand::Query {
                    store,
                    filters,
                    format,
                },
        } => events::query(store, filters, format),
        Command::Events {
            command: EventsCommand::Import { store, file },
        } => events::import(store, &file),
        Command::Events {
            command:
                EventsCommand::Trajectory {
                    store,
                    plate,
                    from,
                    to,
                    limit,
                    format,
                },
        } => events::trajectory(store, plate, from, to, limit, format),
        Command::Retention {
            command: RetentionCommand::Run { store, now },
        } => retention::run(store, now.as_deref()),
        Command::Eval {
            command: EvalCommand::Plates(a),
        } => eval::plates(&a),
        Command::Eval {
            command: EvalCommand::Rules(a),
        } => eval::rules(&a),
        Command::Flow {
            command:
                FlowCommand::Query {
                    store,
                    camera,
                    line,
                    class,
                    from,
                    to,
                    limit,
                    format,
                },
        } => flow::query(
            store,
            xl_store::FlowQuery {
                camera_id: camera,
                line_id: line,
                class,
                from: flow::parse_time(from.as_deref(), "--from")?,
                to: flow::parse_time(to.as_deref(), "--to")?,
                limit,
            },
            format,
        ),
        Command::Cameras {
            command: CamerasCommand::Status { store, format },
        } => cameras::status(store, format),
        Command::Cameras {
            command: CamerasCommand::List { store },
        } => sharing::cameras_list(store),
        Command::Cameras {
            command:
                CamerasCommand::Set {
                    store,
                    id,
                    department,
                    level,
                },
        } => sharing::cameras_set(store, id, department, level),
        Command::Departments { command } => sharing::departments(command),
        Command::Users { command } => sharing::users(command),
        Command::Grants { command } => sharing::grants(command),
        Command::Tokens { command } => sharing::tokens(command),
        Command::Hooks { command } => hooks::run(command),
        Command::Audit { command } => {
            if !sharing::audit(command)? {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

/// Store URL from `--store`, else from the config file.
pub fn store_url(args: &crate::args::StoreArgs) -> anyhow::Result<String> {
    Ok(system_config(args)?.store.url)
}

/// The config named by `--config` (which must exist), else `./xl.toml` when it exists, else the
/// defaults; with `--store` applied. A mistyped `--config` is an error naming the file, never a
/// silent fall-back to a store in the current folder.
pub fn system_config(args: &crate::args::StoreArgs) -> anyhow::Result<xl_config::SystemConfig> {
    const DEFAULT: &str = "xl.toml";
    let mut system = match &args.config {
        Some(path) if !path.is_file() => {
            anyhow::bail!("config file {} not found", path.display())
        }
        Some(path) => xl_config::SystemConfig::load(path)?,
        None if std::path::Path::new(DEFAULT).is_file() => {
            xl_config::SystemConfig::load(std::path::Path::new(DEFAULT))?
        }
        None => xl_config::SystemConfig::parse(std::path::Path::new(DEFAULT), "")?,
    };
    if let Some(url) = &args.store {
        system.store.url = url.clone();
    }
    Ok(system)
}

pub fn tokio_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

pub fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
