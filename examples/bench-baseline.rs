//! The benchmark's reference: a bare axum handler that answers every request with the bytes of
//! one file, as `application/json`. `scripts/bench.sh` runs it on the same core as the reference
//! server, so each knogin route is measured as a ratio to it.
//!
//! ```text
//! bench-baseline 127.0.0.1:18090 body.json
//! ```

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use bytes::Bytes;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(file)) = (args.next(), args.next()) else {
        return Err("usage: bench-baseline ADDR FILE".into());
    };
    let body = Bytes::from(std::fs::read(&file)?);
    let app = Router::new().fallback(move || {
        let body = body.clone();
        async move { ([(CONTENT_TYPE, "application/json")], body) }
    });
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
