//! lot-summary: a component built by another toolchain (Rust, target wasm32-wasi / wasm32-wasip1)
//! that runs in the twocvm sandbox unmodified.
//!
//! Reads the fab's raw wafer maps (/in/wafer-maps, CSV: lot,wafer,die_x,die_y,bin,...) and
//! writes, per lot, the dies tested, the good dies (bin 1) and the yield
//! (/out/lot-summary, CSV). Natively (for checking): lot-summary IN OUT.
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (input, output) = if args.len() > 2 {
        (args[1].as_str(), args[2].as_str())
    } else {
        ("/in/wafer-maps", "/out/lot-summary")
    };
    let text = match fs::read_to_string(input) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("{}: {}", input, error);
            return ExitCode::from(1);
        }
    };
    // BTreeMap, not HashMap: a HashMap seeds itself from random_get, which this component
    // is not granted.
    let mut lots: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (number, line) in text.lines().enumerate().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 8 {
            eprintln!("wafer-maps:{}: expected 8 fields", number + 1);
            return ExitCode::from(1);
        }
        let entry = lots.entry(fields[0]).or_insert((0, 0));
        entry.0 += 1;
        if fields[4] == "1" {
            entry.1 += 1;
        }
    }
    let mut report = String::from("lot,dies,pass,yield_pct\n");
    for (lot, (dies, pass)) in &lots {
        report.push_str(&format!("{},{},{},{:.2}\n", lot, dies, pass, 100.0 * *pass as f64 / *dies as f64));
    }
    match fs::File::create(output).and_then(|mut file| file.write_all(report.as_bytes())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}: {}", output, error);
            ExitCode::from(1)
        }
    }
}
