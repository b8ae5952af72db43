//! Workload 3 of hornet's benchmark as a Goose load test: log in (POST JSON, take the token from the
//! response), GET /json with the token as a bearer header, then GET /items/0, /items/1 and /items/2;
//! no think time. Run by `bench/run` with `--host`, `--users`, `--hatch-rate` and `--run-time`.

use goose::prelude::*;

async fn login_and_browse(user: &mut GooseUser) -> TransactionResult {
    let login =
        user.post_json("/login", &serde_json::json!({"username": "ann", "password": "secret"})).await?;
    let token = match login.response {
        Ok(response) => match response.json::<serde_json::Value>().await {
            Ok(body) => body.get("token").and_then(|t| t.as_str()).unwrap_or_default().to_owned(),
            Err(_) => String::new(),
        },
        Err(_) => String::new(),
    };
    let with_token = user
        .get_request_builder(&GooseMethod::Get, "/json")?
        .header("authorization", format!("Bearer {token}"));
    user.request(GooseRequest::builder().set_request_builder(with_token).build()).await?;
    for n in 0..3 {
        user.get_named(&format!("/items/{n}"), "/items/[n]").await?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), GooseError> {
    GooseAttack::initialize()?
        .register_scenario(scenario!("login and browse").register_transaction(transaction!(login_and_browse)))
        .execute()
        .await?;
    Ok(())
}
