//! Users over the v1 APIs: human and machine users, their profile/email/phone/password, state
//! changes, search, metadata, PATs, machine keys and secrets, and the calling user's own view.

use super::*;
use base64::Engine;
use castellan_proto::zitadel::management::v1 as mgmt;
use castellan_proto::zitadel::management::v1::management_service_client::ManagementServiceClient;
use castellan_proto::zitadel::user::v1 as upb;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// An argon2id PHC hash of "Import1!" (m=64, t=1, p=1), made with castellan_domain::password::hash.
const ARGON2_IMPORT1: &str =
    "$argon2id$v=19$m=64,t=1,p=1$YiHf76fbbIm5JKOEpeBR8w$Pkpw2zacDsCcPeaztaMdmhrdSehIxrdRz3T7X92QrHA";

/// A valid AddHumanUser/ImportHumanUser body.
fn human_body(username: &str) -> Value {
    json!({
        "userName": username,
        "profile": {"firstName": "Given", "lastName": "Family"},
        "email": {"email": format!("{username}@example.com")}
    })
}

/// Adds a human user (no password: state INITIAL); returns its id.
async fn add_human(s: &TestServer, username: &str) -> String {
    add_human_with(s, human_body(username)).await
}

/// Adds a human user from a full body; returns its id.
async fn add_human_with(s: &TestServer, body: Value) -> String {
    let r = ok(s
        .admin("POST", "/management/v1/users/human", Some(body))
        .await);
    r["userId"].as_str().expect("userId").to_string()
}

/// Adds a machine user; returns its id.
async fn add_machine(s: &TestServer, username: &str) -> String {
    let r = ok(s
        .admin(
            "POST",
            "/management/v1/users/machine",
            Some(json!({"userName": username, "name": format!("{username} name")})),
        )
        .await);
    r["userId"].as_str().expect("userId").to_string()
}

/// GetUserByID: the `user` object.
async fn get_user(s: &TestServer, id: &str) -> Value {
    ok(s.admin("GET", &format!("/management/v1/users/{id}"), None)
        .await)["user"]
        .clone()
}

/// ListUsers with a body; returns the whole response.
async fn search(s: &TestServer, body: Value) -> Value {
    ok(s.admin("POST", "/management/v1/users/_search", Some(body))
        .await)
}

/// The user names of a ListUsers response, in order.
fn names(list: &Value) -> Vec<String> {
    list["result"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|u| u["userName"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// ListUsers restricted to `ids` plus `queries`, sorted by user name ascending.
async fn find(s: &TestServer, ids: &[String], queries: Vec<Value>) -> Vec<String> {
    let mut qs = vec![json!({"inUserIdsQuery": {"userIds": ids}})];
    qs.extend(queries);
    names(
        &search(
            s,
            json!({"query": {"asc": true}, "sortingColumn": "USER_FIELD_NAME_USER_NAME", "queries": qs}),
        )
        .await,
    )
}

/// A text query on one user field.
fn tq(query: &str, field: &str, value: &str, method: &str) -> Value {
    json!({ query: { field: value, "method": format!("TEXT_QUERY_METHOD_{method}") } })
}

/// POST a user action such as `_deactivate`.
async fn act(s: &TestServer, id: &str, action: &str) -> (u16, Value) {
    s.admin(
        "POST",
        &format!("/management/v1/users/{id}/{action}"),
        Some(json!({})),
    )
    .await
}

async fn state(s: &TestServer, id: &str) -> String {
    get_user(s, id).await["state"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The id of the calling machine admin (admin-sa).
async fn my_id(s: &TestServer) -> String {
    ok(s.admin("GET", "/auth/v1/users/me", None).await)["user"]["id"]
        .as_str()
        .expect("id")
        .to_string()
}

both!(
    add_human_user_and_read_it_back,
    |s: TestServer| async move {
        let org = ok(s.admin("GET", "/management/v1/orgs/me", None).await)["org"]["id"].clone();
        let res = ok(s
            .admin(
                "POST",
                "/management/v1/users/human",
                Some(json!({
                    "userName": "alice",
                    "profile": {
                        "firstName": "Alice",
                        "lastName": "Anderson",
                        "nickName": "ally",
                        "displayName": "Alice A.",
                        "preferredLanguage": "en",
                        "gender": "GENDER_FEMALE"
                    },
                    "email": {"email": "alice@Example.COM", "isEmailVerified": true},
                    "phone": {"phone": "+41 71 123 45 67", "isPhoneVerified": true},
                    "initialPassword": "Password1!"
                })),
            )
            .await);
        let id = res["userId"].as_str().expect("userId").to_string();
        assert!(!id.is_empty());
        assert!(res["details"]["sequence"].is_string(), "{res}");
        assert_eq!(res["details"]["resourceOwner"], org);
        assert!(res["details"]["creationDate"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')));

        // Read-your-writes: the list shows the user at once.
        let list = search(
            &s,
            json!({"queries": [tq("userNameQuery", "userName", "alice", "EQUALS")]}),
        )
        .await;
        assert_eq!(list["details"]["totalResult"], "1");
        assert_eq!(list["result"][0]["id"], id.as_str());

        let u = get_user(&s, &id).await;
        assert_eq!(u["id"], id.as_str());
        assert_eq!(u["userName"], "alice");
        assert_eq!(
            u["state"], "USER_STATE_ACTIVE",
            "a password makes it active"
        );
        assert_eq!(u["preferredLoginName"], "alice");
        assert_eq!(u["loginNames"], json!(["alice"]));
        assert_eq!(u["details"]["resourceOwner"], org);
        let h = &u["human"];
        assert_eq!(h["profile"]["firstName"], "Alice");
        assert_eq!(h["profile"]["lastName"], "Anderson");
        assert_eq!(h["profile"]["nickName"], "ally");
        assert_eq!(h["profile"]["displayName"], "Alice A.");
        assert_eq!(h["profile"]["preferredLanguage"], "en");
        assert_eq!(h["profile"]["gender"], "GENDER_FEMALE");
        assert_eq!(h["email"]["email"], "alice@example.com");
        assert_eq!(h["email"]["isEmailVerified"], true);
        assert_eq!(h["phone"]["phone"], "+41711234567");
        assert_eq!(h["phone"]["isPhoneVerified"], true);
        assert!(h["passwordChanged"].is_string(), "{u}");
        assert!(u.get("machine").is_none());

        // Without a password the user is initial; the display name defaults to "first last".
        let bob = add_human(&s, "bob").await;
        let b = get_user(&s, &bob).await;
        assert_eq!(b["state"], "USER_STATE_INITIAL");
        assert_eq!(b["human"]["profile"]["displayName"], "Given Family");
        assert!(b["human"]["email"].get("isEmailVerified").is_none());

        // By login name, globally and case-insensitively.
        let g = ok(s
            .admin(
                "GET",
                "/management/v1/global/users/_by_login_name?loginName=ALICE",
                None,
            )
            .await);
        assert_eq!(g["user"]["id"], id.as_str());
        assert_err(
            &s.admin(
                "GET",
                "/management/v1/global/users/_by_login_name?loginName=nobody",
                None,
            )
            .await,
            404,
            5,
            "User could not be found",
        );
        assert_err(
            &s.admin("GET", "/management/v1/users/404404", None).await,
            404,
            5,
            "User could not be found",
        );
    }
);

both!(import_human_user_passwords, |s: TestServer| async move {
    let import = |body: Value| {
        let s = &s;
        async move {
            s.admin("POST", "/management/v1/users/human/_import", Some(body))
                .await
        }
    };
    // Plain password.
    let mut b = human_body("plain");
    b["password"] = json!("Password1!");
    b["passwordChangeRequired"] = json!(true);
    let r = ok(import(b).await);
    let plain = r["userId"].as_str().expect("userId").to_string();
    assert!(r["details"]["sequence"].is_string());
    let u = get_user(&s, &plain).await;
    assert_eq!(u["state"], "USER_STATE_ACTIVE");
    assert!(u["human"]["passwordChanged"].is_string());

    // A plain password must meet the complexity policy.
    let mut b = human_body("weak");
    b["password"] = json!("password1!");
    assert_err(&import(b).await, 400, 3, "upper case");

    // bcrypt hash.
    let hash = bcrypt::hash("Import1!", 4).expect("bcrypt");
    let mut b = human_body("bcrypted");
    b["hashedPassword"] = json!({ "value": hash });
    let id = ok(import(b).await)["userId"]
        .as_str()
        .expect("id")
        .to_string();
    let u = get_user(&s, &id).await;
    assert_eq!(u["state"], "USER_STATE_ACTIVE");
    assert!(u["human"]["passwordChanged"].is_string());

    // argon2id PHC hash.
    let mut b = human_body("argoned");
    b["hashedPassword"] = json!({ "value": ARGON2_IMPORT1 });
    let id = ok(import(b).await)["userId"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(state(&s, &id).await, "USER_STATE_ACTIVE");

    // Unsupported hash formats.
    for bad in [
        "5f4dcc3b5aa765d61d8327deb882cf99",
        "$1$abc$def",
        "$2b$04$tooshort",
        "{SSHA}abcdef",
    ] {
        let mut b = human_body("unsupported");
        b["hashedPassword"] = json!({ "value": bad });
        assert_err(&import(b).await, 400, 3, "hash format is not supported");
    }
    // Nothing was created by the failed imports.
    let list = search(
        &s,
        json!({"queries": [tq("userNameQuery", "userName", "unsupported", "EQUALS")]}),
    )
    .await;
    assert!(list["result"].as_array().is_none_or(|a| a.is_empty()));

    // Import checks inputs like AddHumanUser does.
    assert_err(&import(human_body("plain")).await, 409, 6, "already exists");
    assert_err(
        &import(json!({"userName": "x", "email": {"email": "x@example.com"}})).await,
        400,
        3,
        "profile is required",
    );
});

both!(
    add_machine_user_and_update_machine,
    |s: TestServer| async move {
        let r = ok(s
            .admin(
                "POST",
                "/management/v1/users/machine",
                Some(json!({
                    "userName": "robot",
                    "name": "Robot",
                    "description": "does things",
                    "accessTokenType": "ACCESS_TOKEN_TYPE_JWT"
                })),
            )
            .await);
        let id = r["userId"].as_str().expect("userId").to_string();
        let u = get_user(&s, &id).await;
        assert_eq!(u["userName"], "robot");
        assert_eq!(u["state"], "USER_STATE_ACTIVE");
        assert_eq!(u["machine"]["name"], "Robot");
        assert_eq!(u["machine"]["description"], "does things");
        assert_eq!(u["machine"]["accessTokenType"], "ACCESS_TOKEN_TYPE_JWT");
        assert_ne!(u["machine"]["hasSecret"], true);
        assert!(u.get("human").is_none());

        // A chosen user id.
        let r = ok(s
            .admin(
                "POST",
                "/management/v1/users/machine",
                Some(json!({"userName": "robot2", "name": "R2", "userId": "my-robot-id"})),
            )
            .await);
        assert_eq!(r["userId"], "my-robot-id");
        assert_err(
            &s.admin(
                "POST",
                "/management/v1/users/machine",
                Some(json!({"userName": "robot3", "name": "R3", "userId": "my-robot-id"})),
            )
            .await,
            409,
            6,
            "already exists",
        );

        // UpdateMachine.
        ok(s.admin(
        "PUT",
        &format!("/management/v1/users/{id}/machine"),
        Some(json!({"name": "Robbie", "description": "new", "accessTokenType": "ACCESS_TOKEN_TYPE_BEARER"})),
    )
    .await);
        let u = get_user(&s, &id).await;
        assert_eq!(u["machine"]["name"], "Robbie");
        assert_eq!(u["machine"]["description"], "new");
        // BEARER is the zero value: omitted in proto JSON.
        assert!(u["machine"].get("accessTokenType").is_none(), "{u}");
        assert_err(
            &s.admin(
                "PUT",
                &format!("/management/v1/users/{id}/machine"),
                Some(json!({"name": "Robbie", "description": "new"})),
            )
            .await,
            400,
            9,
            "not changed",
        );
        assert_err(
            &s.admin(
                "PUT",
                &format!("/management/v1/users/{id}/machine"),
                Some(json!({"name": ""})),
            )
            .await,
            400,
            3,
            "name must not be empty",
        );
        // Machine-only RPCs on a human.
        let h = add_human(&s, "hugo").await;
        assert_err(
            &s.admin(
                "PUT",
                &format!("/management/v1/users/{h}/machine"),
                Some(json!({"name": "x"})),
            )
            .await,
            400,
            9,
            "not a machine user",
        );
        assert_err(
            &s.admin(
                "POST",
                &format!("/management/v1/users/{h}/pats"),
                Some(json!({})),
            )
            .await,
            400,
            9,
            "not a machine user",
        );
        assert_err(
            &s.admin(
                "POST",
                &format!("/management/v1/users/{h}/keys"),
                Some(json!({"type": "KEY_TYPE_JSON"})),
            )
            .await,
            400,
            9,
            "not a machine user",
        );
        assert_err(
            &s.admin(
                "PUT",
                &format!("/management/v1/users/{h}/secret"),
                Some(json!({})),
            )
            .await,
            400,
            9,
            "not a machine user",
        );
    }
);

/// Four users to search: alice (active, password), bob and carol (initial), dave-bot (machine).
async fn search_fixture(s: &TestServer) -> Vec<String> {
    let mut ids = Vec::new();
    ids.push(
        add_human_with(
            s,
            json!({
                "userName": "alice",
                "profile": {"firstName": "Alice", "lastName": "Anderson", "nickName": "ally", "displayName": "Alice A."},
                "email": {"email": "alice@example.com"},
                "initialPassword": "Password1!"
            }),
        )
        .await,
    );
    ids.push(
        add_human_with(
            s,
            json!({
                "userName": "bob",
                "profile": {"firstName": "Bob", "lastName": "Brown", "nickName": "bobby"},
                "email": {"email": "bob@Example.ORG"}
            }),
        )
        .await,
    );
    ids.push(
        add_human_with(
            s,
            json!({
                "userName": "carol",
                "profile": {"firstName": "Carol", "lastName": "Clark", "nickName": "caz", "displayName": "Zed"},
                "email": {"email": "carol@example.com"}
            }),
        )
        .await,
    );
    ids.push(add_machine(s, "dave-bot").await);
    ids
}

both!(list_users_text_queries, |s: TestServer| async move {
    let ids = search_fixture(&s).await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (
            tq("userNameQuery", "userName", "alice", "EQUALS"),
            vec!["alice"],
        ),
        (tq("userNameQuery", "userName", "ALICE", "EQUALS"), vec![]),
        (
            tq("userNameQuery", "userName", "ALICE", "EQUALS_IGNORE_CASE"),
            vec!["alice"],
        ),
        (
            tq("userNameQuery", "userName", "ca", "STARTS_WITH"),
            vec!["carol"],
        ),
        (tq("userNameQuery", "userName", "CA", "STARTS_WITH"), vec![]),
        (
            tq("userNameQuery", "userName", "CA", "STARTS_WITH_IGNORE_CASE"),
            vec!["carol"],
        ),
        (
            tq("userNameQuery", "userName", "o", "CONTAINS"),
            vec!["bob", "carol", "dave-bot"],
        ),
        (
            tq("userNameQuery", "userName", "-", "CONTAINS"),
            vec!["dave-bot"],
        ),
        (
            tq("firstNameQuery", "firstName", "AR", "CONTAINS_IGNORE_CASE"),
            vec!["carol"],
        ),
        (tq("firstNameQuery", "firstName", "AR", "CONTAINS"), vec![]),
        (
            tq("lastNameQuery", "lastName", "son", "ENDS_WITH"),
            vec!["alice"],
        ),
        (tq("lastNameQuery", "lastName", "SON", "ENDS_WITH"), vec![]),
        (
            tq("lastNameQuery", "lastName", "SON", "ENDS_WITH_IGNORE_CASE"),
            vec!["alice"],
        ),
        (
            tq("nickNameQuery", "nickName", "bobby", "EQUALS"),
            vec!["bob"],
        ),
        (
            tq(
                "displayNameQuery",
                "displayName",
                "alice a",
                "STARTS_WITH_IGNORE_CASE",
            ),
            vec!["alice"],
        ),
        (
            tq("displayNameQuery", "displayName", "Bob Brown", "EQUALS"),
            vec!["bob"],
        ),
        (
            tq("emailQuery", "emailAddress", "@example.com", "ENDS_WITH"),
            vec!["alice", "carol"],
        ),
        (
            tq(
                "emailQuery",
                "emailAddress",
                "BOB@EXAMPLE.ORG",
                "EQUALS_IGNORE_CASE",
            ),
            vec!["bob"],
        ),
        (
            tq("loginNameQuery", "loginName", "carol", "EQUALS"),
            vec!["carol"],
        ),
        (
            tq(
                "loginNameQuery",
                "loginName",
                "BOT",
                "ENDS_WITH_IGNORE_CASE",
            ),
            vec!["dave-bot"],
        ),
        // LIKE wildcards in the value are literal.
        (tq("userNameQuery", "userName", "%", "CONTAINS"), vec![]),
        (tq("userNameQuery", "userName", "b_b", "EQUALS"), vec![]),
        (tq("userNameQuery", "userName", "b_b", "CONTAINS"), vec![]),
    ];
    for (q, want) in cases {
        assert_eq!(find(&s, &ids, vec![q.clone()]).await, want, "query {q}");
    }
    // Unscoped: the text query alone finds the user among all users of the org.
    let all = search(
        &s,
        json!({"queries": [tq("emailQuery", "emailAddress", "bob@example.org", "EQUALS")]}),
    )
    .await;
    assert_eq!(names(&all), vec!["bob"]);
    assert_eq!(all["details"]["totalResult"], "1");
    // Unknown method and empty queries are rejected.
    assert_err(
        &s.admin(
            "POST",
            "/management/v1/users/_search",
            Some(json!({"queries": [{}]})),
        )
        .await,
        400,
        3,
        "a query must set one of its fields",
    );
});

both!(
    list_users_state_type_in_and_nesting,
    |s: TestServer| async move {
        let ids = search_fixture(&s).await;
        let st = |v: &str| json!({"stateQuery": {"state": v}});
        let ty = |v: &str| json!({"typeQuery": {"type": v}});
        assert_eq!(
            find(&s, &ids, vec![st("USER_STATE_ACTIVE")]).await,
            vec!["alice", "dave-bot"]
        );
        assert_eq!(
            find(&s, &ids, vec![st("USER_STATE_INITIAL")]).await,
            vec!["bob", "carol"]
        );
        assert_eq!(
            find(&s, &ids, vec![st("USER_STATE_LOCKED")]).await,
            Vec::<String>::new()
        );
        assert_eq!(
            find(&s, &ids, vec![ty("TYPE_HUMAN")]).await,
            vec!["alice", "bob", "carol"]
        );
        assert_eq!(
            find(&s, &ids, vec![ty("TYPE_MACHINE")]).await,
            vec!["dave-bot"]
        );
        // Unscoped: the org's own machine admin is a machine too.
        let machines = names(
        &search(
            &s,
            json!({"query": {"asc": true}, "sortingColumn": "USER_FIELD_NAME_USER_NAME", "queries": [ty("TYPE_MACHINE")]}),
        )
        .await,
    );
        assert_eq!(machines, vec!["admin-sa", "dave-bot"]);

        // inUserIds / inUserEmails.
        let two = json!({"inUserIdsQuery": {"userIds": [ids[0], ids[2], "404404"]}});
        assert_eq!(
        names(&search(&s, json!({"query": {"asc": true}, "sortingColumn": "USER_FIELD_NAME_USER_NAME", "queries": [two]})).await),
        vec!["alice", "carol"]
    );
        assert_eq!(
        find(
            &s,
            &ids,
            vec![json!({"inUserEmailsQuery": {"userEmails": ["ALICE@example.com", "bob@example.org"]}})]
        )
        .await,
        vec!["alice", "bob"]
    );
        assert_eq!(
            find(&s, &ids, vec![json!({"inUserIdsQuery": {"userIds": []}})]).await,
            Vec::<String>::new()
        );

        // or / and / not, nested.
        let or = json!({"orQuery": {"queries": [
            tq("userNameQuery", "userName", "alice", "EQUALS"),
            tq("nickNameQuery", "nickName", "caz", "EQUALS"),
        ]}});
        assert_eq!(
            find(&s, &ids, vec![or.clone()]).await,
            vec!["alice", "carol"]
        );
        let and = json!({"andQuery": {"queries": [
            ty("TYPE_HUMAN"),
            {"orQuery": {"queries": [
                tq("firstNameQuery", "firstName", "Bob", "EQUALS"),
                tq("lastNameQuery", "lastName", "Clark", "EQUALS"),
                ty("TYPE_MACHINE"),
            ]}},
        ]}});
        assert_eq!(find(&s, &ids, vec![and]).await, vec!["bob", "carol"]);
        assert_eq!(
            find(
                &s,
                &ids,
                vec![json!({"notQuery": {"query": ty("TYPE_HUMAN")}})]
            )
            .await,
            vec!["dave-bot"]
        );
        assert_eq!(
            find(&s, &ids, vec![json!({"notQuery": {"query": or}})]).await,
            vec!["bob", "dave-bot"]
        );
        let deep = json!({"notQuery": {"query": {"andQuery": {"queries": [
            ty("TYPE_HUMAN"),
            {"notQuery": {"query": st("USER_STATE_ACTIVE")}},
        ]}}}});
        assert_eq!(find(&s, &ids, vec![deep]).await, vec!["alice", "dave-bot"]);
        // Several top-level queries are ANDed.
        assert_eq!(
            find(
                &s,
                &ids,
                vec![
                    ty("TYPE_HUMAN"),
                    st("USER_STATE_INITIAL"),
                    tq("userNameQuery", "userName", "c", "STARTS_WITH")
                ]
            )
            .await,
            vec!["carol"]
        );
        // Nesting is limited.
        let mut q = ty("TYPE_HUMAN");
        for _ in 0..12 {
            q = json!({ "notQuery": { "query": q } });
        }
        assert_err(
            &s.admin(
                "POST",
                "/management/v1/users/_search",
                Some(json!({ "queries": [q] })),
            )
            .await,
            400,
            3,
            "nested too deeply",
        );
        // Empty or/and and a not without a query are rejected.
        assert_err(
            &s.admin(
                "POST",
                "/management/v1/users/_search",
                Some(json!({"queries": [{"orQuery": {"queries": []}}]})),
            )
            .await,
            400,
            3,
            "at least one query",
        );
        assert_err(
            &s.admin(
                "POST",
                "/management/v1/users/_search",
                Some(json!({"queries": [{"notQuery": {}}]})),
            )
            .await,
            400,
            3,
            "notQuery.query is required",
        );
    }
);

both!(list_users_sorting_and_paging, |s: TestServer| async move {
    let ids = search_fixture(&s).await;
    let scope = json!({"inUserIdsQuery": {"userIds": ids}});
    let sorted = |col: &str, asc: bool| {
        let (s, scope) = (&s, scope.clone());
        let body = json!({"query": {"asc": asc}, "sortingColumn": format!("USER_FIELD_NAME_{col}"), "queries": [scope]});
        async move { names(&search(s, body).await) }
    };
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        sorted("USER_NAME", true).await,
        v(&["alice", "bob", "carol", "dave-bot"])
    );
    assert_eq!(
        sorted("USER_NAME", false).await,
        v(&["dave-bot", "carol", "bob", "alice"])
    );
    // The machine has empty profile fields: sorts first ascending.
    assert_eq!(
        sorted("FIRST_NAME", true).await,
        v(&["dave-bot", "alice", "bob", "carol"])
    );
    assert_eq!(
        sorted("LAST_NAME", false).await,
        v(&["carol", "bob", "alice", "dave-bot"])
    );
    assert_eq!(
        sorted("NICK_NAME", true).await,
        v(&["dave-bot", "alice", "bob", "carol"])
    );
    // Display names: "Alice A.", "Bob Brown", "Zed".
    assert_eq!(
        sorted("DISPLAY_NAME", false).await,
        v(&["carol", "bob", "alice", "dave-bot"])
    );
    assert_eq!(
        sorted("EMAIL", true).await,
        v(&["dave-bot", "alice", "bob", "carol"])
    );
    // States: ACTIVE(1) < INITIAL(6); ties broken by id in the same direction.
    let by_state = sorted("STATE", true).await;
    assert_eq!(by_state.len(), 4);
    let mut first_two = by_state[..2].to_vec();
    first_two.sort();
    assert_eq!(first_two, v(&["alice", "dave-bot"]));
    // Types: HUMAN(1) < MACHINE(2).
    assert_eq!(sorted("TYPE", false).await[0], "dave-bot");
    assert_eq!(
        sorted("CREATION_DATE", true).await,
        v(&["alice", "bob", "carol", "dave-bot"])
    );
    // The default order is creation date descending.
    assert_eq!(
        names(&search(&s, json!({"queries": [scope.clone()]})).await),
        v(&["dave-bot", "carol", "bob", "alice"])
    );

    // Offset and limit; totalResult counts all matches.
    let page = search(
        &s,
        json!({"query": {"offset": "1", "limit": 2, "asc": true}, "sortingColumn": "USER_FIELD_NAME_USER_NAME", "queries": [scope.clone()]}),
    )
    .await;
    assert_eq!(names(&page), v(&["bob", "carol"]));
    assert_eq!(page["details"]["totalResult"], "4");
    assert_eq!(page["sortingColumn"], "USER_FIELD_NAME_USER_NAME");
    assert!(page["details"]["viewTimestamp"].is_string());
    let past_end = search(
        &s,
        json!({"query": {"offset": 10, "limit": 2}, "queries": [scope.clone()]}),
    )
    .await;
    assert!(past_end["result"].as_array().is_none_or(|a| a.is_empty()));
    assert_eq!(past_end["details"]["totalResult"], "4");
    // All users of the org: the two admins plus the fixture.
    let all = search(&s, json!({})).await;
    assert_eq!(all["details"]["totalResult"], "6");
    assert_err(
        &s.admin(
            "POST",
            "/management/v1/users/_search",
            Some(json!({"query": {"limit": 1_000_000}})),
        )
        .await,
        400,
        3,
        "limit must be at most",
    );
});

both!(users_are_scoped_to_the_org, |s: TestServer| async move {
    let org = ok(s
        .admin(
            "POST",
            "/management/v1/orgs",
            Some(json!({"name": "Other Org"})),
        )
        .await)["id"]
        .as_str()
        .expect("org id")
        .to_string();
    let in_org = |method: &'static str, path: String, body: Option<Value>| {
        let (s, org) = (&s, org.clone());
        async move { s.call(method, &path, body, Some(&s.pat), Some(&org)).await }
    };
    let r = ok(in_org(
        "POST",
        "/management/v1/users/human".into(),
        Some(human_body("outsider")),
    )
    .await);
    let id = r["userId"].as_str().expect("userId").to_string();
    assert_eq!(r["details"]["resourceOwner"], org.as_str());
    // Visible in its org only.
    let u = ok(in_org("GET", format!("/management/v1/users/{id}"), None).await);
    assert_eq!(u["user"]["details"]["resourceOwner"], org.as_str());
    assert_err(
        &s.admin("GET", &format!("/management/v1/users/{id}"), None)
            .await,
        404,
        5,
        "User could not be found",
    );
    assert_err(
        &act(&s, &id, "_lock").await,
        404,
        5,
        "User could not be found",
    );
    let home = search(
        &s,
        json!({"queries": [tq("userNameQuery", "userName", "outsider", "EQUALS")]}),
    )
    .await;
    assert!(home["result"].as_array().is_none_or(|a| a.is_empty()));
    let there = ok(in_org(
        "POST",
        "/management/v1/users/_search".into(),
        Some(json!({})),
    )
    .await);
    assert_eq!(names(&there), vec!["outsider"]);
    // The global lookup finds it from anywhere.
    let g = ok(s
        .admin(
            "GET",
            "/management/v1/global/users/_by_login_name?loginName=outsider",
            None,
        )
        .await);
    assert_eq!(g["user"]["id"], id.as_str());
    // User names are unique in the instance (default domain policy).
    assert_err(
        &s.admin(
            "POST",
            "/management/v1/users/human",
            Some(human_body("outsider")),
        )
        .await,
        409,
        6,
        "already exists",
    );
});

both!(is_user_unique, |s: TestServer| async move {
    add_human(&s, "taken").await;
    let unique = |q: &str| {
        let s = &s;
        let path = format!("/management/v1/users/_is_unique?{q}");
        async move { ok(s.admin("GET", &path, None).await)["isUnique"] == true }
    };
    assert!(!unique("userName=taken").await);
    assert!(!unique("userName=TAKEN").await);
    assert!(!unique("userName=admin-sa").await);
    assert!(unique("userName=free").await);
    assert!(!unique("userName=free&email=taken@example.com").await);
    assert!(!unique("email=TAKEN@example.com").await);
    assert!(unique("userName=free&email=free@example.com").await);
});

both!(user_changes_and_memberships, |s: TestServer| async move {
    let me = my_id(&s).await;
    let id = add_human(&s, "changer").await;
    ok(s.admin(
        "PUT",
        &format!("/management/v1/users/{id}/profile"),
        Some(json!({"firstName": "New", "lastName": "Name"})),
    )
    .await);
    act(&s, &id, "_lock").await;
    let changes = ok(s
        .admin(
            "POST",
            &format!("/management/v1/users/{id}/changes/_search"),
            Some(json!({"query": {"asc": true}})),
        )
        .await);
    let result = changes["result"].as_array().expect("result");
    let types: Vec<&str> = result
        .iter()
        .map(|c| c["eventType"]["key"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        types,
        vec![
            "user.human.added",
            "user.human.profile.changed",
            "user.locked"
        ]
    );
    let c = &result[0];
    assert_eq!(c["editorId"], me.as_str());
    assert_eq!(c["editorDisplayName"], "Automation");
    assert_eq!(c["editorPreferredLoginName"], "admin-sa");
    assert!(c["sequence"].is_string());
    assert!(c["changeDate"].as_str().is_some_and(|t| t.ends_with('Z')));
    assert!(c["resourceOwnerId"].is_string());
    // Newest first by default; limit and sequence cursor.
    let desc = ok(s
        .admin(
            "POST",
            &format!("/management/v1/users/{id}/changes/_search"),
            Some(json!({"query": {"limit": 1}})),
        )
        .await);
    assert_eq!(desc["result"].as_array().map(Vec::len), Some(1));
    assert_eq!(desc["result"][0]["eventType"]["key"], "user.locked");
    let after = ok(s
        .admin(
            "POST",
            &format!("/management/v1/users/{id}/changes/_search"),
            Some(json!({"query": {"asc": true, "sequence": result[0]["sequence"]}})),
        )
        .await);
    assert_eq!(after["result"].as_array().map(Vec::len), Some(2));
    assert_err(
        &s.admin(
            "POST",
            "/management/v1/users/404404/changes/_search",
            Some(json!({})),
        )
        .await,
        404,
        5,
        "User could not be found",
    );

    // Memberships: the machine admin is IAM_OWNER; a new user has none.
    let m = ok(s
        .admin(
            "POST",
            &format!("/management/v1/users/{me}/memberships/_search"),
            Some(json!({})),
        )
        .await);
    let iam = m["result"]
        .as_array()
        .expect("result")
        .iter()
        .find(|m| m["iam"] == true)
        .expect("IAM membership")
        .clone();
    assert_eq!(iam["userId"], me.as_str());
    assert!(iam["roles"]
        .as_array()
        .is_some_and(|r| r.contains(&json!("IAM_OWNER"))));
    let only_iam = ok(s
        .admin(
            "POST",
            &format!("/management/v1/users/{me}/memberships/_search"),
            Some(json!({"queries": [{"iamQuery": {"iam": true}}]})),
        )
        .await);
    assert_eq!(only_iam["details"]["totalResult"], "1");
    let none = ok(s
        .admin(
            "POST",
            &format!("/management/v1/users/{id}/memberships/_search"),
            Some(json!({})),
        )
        .await);
    assert!(none["result"].as_array().is_none_or(|a| a.is_empty()));
    // Zero is omitted in proto JSON.
    assert!(none["details"].get("totalResult").is_none(), "{none}");
});

both!(update_user_name, |s: TestServer| async move {
    let id = add_human(&s, "oldname").await;
    add_human(&s, "other").await;
    let path = format!("/management/v1/users/{id}/username");
    ok(s.admin("PUT", &path, Some(json!({"userName": "newname"})))
        .await);
    let u = get_user(&s, &id).await;
    assert_eq!(u["userName"], "newname");
    assert_eq!(u["preferredLoginName"], "newname");
    assert_err(
        &s.admin("PUT", &path, Some(json!({"userName": "other"})))
            .await,
        409,
        6,
        "already exists",
    );
    assert_err(
        &s.admin("PUT", &path, Some(json!({"userName": "OTHER"})))
            .await,
        409,
        6,
        "already exists",
    );
    assert_err(
        &s.admin("PUT", &path, Some(json!({"userName": "newname"})))
            .await,
        400,
        9,
        "not changed",
    );
    assert_err(
        &s.admin("PUT", &path, Some(json!({"userName": ""}))).await,
        400,
        3,
        "userName must not be empty",
    );
    assert_err(
        &s.admin("PUT", &path, Some(json!({"userName": "x".repeat(201)})))
            .await,
        400,
        3,
        "userName must be at most 200",
    );
    // Only the case changes: allowed.
    ok(s.admin("PUT", &path, Some(json!({"userName": "NewName"})))
        .await);
    assert_eq!(get_user(&s, &id).await["userName"], "NewName");
    // The old name is free again.
    add_human(&s, "oldname").await;
    assert_err(
        &s.admin(
            "PUT",
            "/management/v1/users/404404/username",
            Some(json!({"userName": "zzz"})),
        )
        .await,
        404,
        5,
        "User could not be found",
    );
});

both!(user_state_transitions, |s: TestServer| async move {
    let mut body = human_body("stateful");
    body["initialPassword"] = json!("Password1!");
    let id = add_human_with(&s, body).await;
    assert_eq!(state(&s, &id).await, "USER_STATE_ACTIVE");

    ok(act(&s, &id, "_deactivate").await);
    assert_eq!(state(&s, &id).await, "USER_STATE_INACTIVE");
    assert_err(
        &act(&s, &id, "_deactivate").await,
        400,
        9,
        "already deactivated",
    );
    assert_err(
        &act(&s, &id, "_lock").await,
        400,
        9,
        "not active or initial",
    );
    assert_err(&act(&s, &id, "_unlock").await, 400, 9, "not locked");
    ok(act(&s, &id, "_reactivate").await);
    assert_eq!(state(&s, &id).await, "USER_STATE_ACTIVE");
    assert_err(
        &act(&s, &id, "_reactivate").await,
        400,
        9,
        "not deactivated",
    );

    ok(act(&s, &id, "_lock").await);
    assert_eq!(state(&s, &id).await, "USER_STATE_LOCKED");
    assert_err(&act(&s, &id, "_lock").await, 400, 9, "already locked");
    assert_err(
        &act(&s, &id, "_reactivate").await,
        400,
        9,
        "not deactivated",
    );
    ok(act(&s, &id, "_unlock").await);
    assert_eq!(state(&s, &id).await, "USER_STATE_ACTIVE");
    assert_err(&act(&s, &id, "_unlock").await, 400, 9, "not locked");

    // Initial users cannot be deactivated but can be locked.
    let init = add_human(&s, "initial").await;
    assert_err(&act(&s, &init, "_deactivate").await, 400, 9, "initial");
    ok(act(&s, &init, "_lock").await);
    assert_eq!(state(&s, &init).await, "USER_STATE_LOCKED");

    // The state shows in the list too, and unknown users are 404.
    let list = search(
        &s,
        json!({"queries": [{"stateQuery": {"state": "USER_STATE_LOCKED"}}]}),
    )
    .await;
    assert_eq!(names(&list), vec!["initial"]);
    for a in ["_deactivate", "_reactivate", "_lock", "_unlock"] {
        assert_err(
            &act(&s, "404404", a).await,
            404,
            5,
            "User could not be found",
        );
    }
});

both!(remove_user, |s: TestServer| async move {
    let id = add_human(&s, "doomed").await;
    ok(s.admin(
        "POST",
        &format!("/management/v1/users/{id}/metadata/k"),
        Some(json!({"value": b64("v")})),
    )
    .await);
    let r = ok(s
        .admin("DELETE", &format!("/management/v1/users/{id}"), None)
        .await);
    assert!(r["details"]["sequence"].is_string());
    assert_err(
        &s.admin("GET", &format!("/management/v1/users/{id}"), None)
            .await,
        404,
        5,
        "User could not be found",
    );
    assert_err(
        &s.admin("DELETE", &format!("/management/v1/users/{id}"), None)
            .await,
        404,
        5,
        "User could not be found",
    );
    assert_err(
        &s.admin(
            "GET",
            &format!("/management/v1/users/{id}/metadata/k"),
            None,
        )
        .await,
        404,
        5,
        "",
    );
    let list = search(
        &s,
        json!({"queries": [tq("userNameQuery", "userName", "doomed", "EQUALS")]}),
    )
    .await;
    assert!(list["result"].as_array().is_none_or(|a| a.is_empty()));
    // The user name can be used again, by a new user.
    let again = add_human(&s, "doomed").await;
    assert_ne!(again, id);
    assert_eq!(get_user(&s, &again).await["userName"], "doomed");
    // Machines too.
    let m = add_machine(&s, "doomed-bot").await;
    ok(
        s.admin("DELETE", &format!("/management/v1/users/{m}"), None)
            .await,
    );
    add_machine(&s, "doomed-bot").await;
});

both!(human_profile_email_phone, |s: TestServer| async move {
    let id = add_human(&s, "hank").await;
    let base = format!("/management/v1/users/{id}");

    // Profile.
    let p = ok(s.admin("GET", &format!("{base}/profile"), None).await);
    assert_eq!(p["profile"]["firstName"], "Given");
    assert_eq!(p["profile"]["lastName"], "Family");
    assert_eq!(p["profile"]["displayName"], "Given Family");
    assert!(p["details"]["sequence"].is_string());
    ok(s.admin(
        "PUT",
        &format!("{base}/profile"),
        Some(json!({
            "firstName": "Hank",
            "lastName": "Hill",
            "nickName": "H",
            "displayName": "Hank H.",
            "preferredLanguage": "de",
            "gender": "GENDER_MALE"
        })),
    )
    .await);
    let p = ok(s.admin("GET", &format!("{base}/profile"), None).await)["profile"].clone();
    assert_eq!(p["firstName"], "Hank");
    assert_eq!(p["lastName"], "Hill");
    assert_eq!(p["nickName"], "H");
    assert_eq!(p["displayName"], "Hank H.");
    assert_eq!(p["preferredLanguage"], "de");
    assert_eq!(p["gender"], "GENDER_MALE");
    assert_err(
        &s.admin(
            "PUT",
            &format!("{base}/profile"),
            Some(json!({
                "firstName": "Hank", "lastName": "Hill", "nickName": "H", "displayName": "Hank H.",
                "preferredLanguage": "de", "gender": "GENDER_MALE"
            })),
        )
        .await,
        400,
        9,
        "not changed",
    );
    assert_err(
        &s.admin(
            "PUT",
            &format!("{base}/profile"),
            Some(json!({"firstName": "", "lastName": "Hill"})),
        )
        .await,
        400,
        3,
        "firstName must not be empty",
    );
    assert_err(
        &s.admin(
            "PUT",
            &format!("{base}/profile"),
            Some(json!({"firstName": "Hank", "lastName": "x".repeat(201)})),
        )
        .await,
        400,
        3,
        "lastName must be at most 200",
    );

    // Email.
    let e = ok(s.admin("GET", &format!("{base}/email"), None).await);
    assert_eq!(e["email"]["email"], "hank@example.com");
    assert_ne!(e["email"]["isEmailVerified"], true);
    ok(s.admin(
        "PUT",
        &format!("{base}/email"),
        Some(json!({"email": "Hank.Hill@Example.COM", "isEmailVerified": true})),
    )
    .await);
    let e = ok(s.admin("GET", &format!("{base}/email"), None).await);
    assert_eq!(e["email"]["email"], "Hank.Hill@example.com");
    assert_eq!(e["email"]["isEmailVerified"], true);
    assert_err(
        &s.admin(
            "PUT",
            &format!("{base}/email"),
            Some(json!({"email": "Hank.Hill@example.com", "isEmailVerified": true})),
        )
        .await,
        400,
        9,
        "email not changed",
    );
    for bad in ["not-an-email", "a@", "@b.com", "a b@c.com", ""] {
        assert_err(
            &s.admin(
                "PUT",
                &format!("{base}/email"),
                Some(json!({ "email": bad })),
            )
            .await,
            400,
            3,
            "email is not a valid email address",
        );
    }

    // Phone.
    let ph = ok(s.admin("GET", &format!("{base}/phone"), None).await);
    assert!(ph["phone"]
        .get("phone")
        .is_none_or(|p| p.as_str() == Some("")));
    ok(s.admin(
        "PUT",
        &format!("{base}/phone"),
        Some(json!({"phone": "+41 (71) 123-45-67", "isPhoneVerified": true})),
    )
    .await);
    let ph = ok(s.admin("GET", &format!("{base}/phone"), None).await);
    assert_eq!(ph["phone"]["phone"], "+41711234567");
    assert_eq!(ph["phone"]["isPhoneVerified"], true);
    assert_err(
        &s.admin(
            "PUT",
            &format!("{base}/phone"),
            Some(json!({"phone": "+41711234567", "isPhoneVerified": true})),
        )
        .await,
        400,
        9,
        "phone not changed",
    );
    ok(s.admin(
        "PUT",
        &format!("{base}/phone"),
        Some(json!({"phone": "0041 79 000 00 00"})),
    )
    .await);
    assert_eq!(
        ok(s.admin("GET", &format!("{base}/phone"), None).await)["phone"]["phone"],
        "+41790000000"
    );
    for bad in ["12345", "+1 23", "+41 abc 123 45 67", ""] {
        assert_err(
            &s.admin(
                "PUT",
                &format!("{base}/phone"),
                Some(json!({ "phone": bad })),
            )
            .await,
            400,
            3,
            "international number",
        );
    }
    ok(s.admin("DELETE", &format!("{base}/phone"), None).await);
    let ph = ok(s.admin("GET", &format!("{base}/phone"), None).await);
    assert!(ph["phone"]
        .get("phone")
        .is_none_or(|p| p.as_str() == Some("")));
    assert_err(
        &s.admin("DELETE", &format!("{base}/phone"), None).await,
        404,
        5,
        "phone not found",
    );
    // The whole user reflects the changes.
    let u = get_user(&s, &id).await;
    assert_eq!(u["human"]["profile"]["firstName"], "Hank");
    assert_eq!(u["human"]["email"]["email"], "Hank.Hill@example.com");
});

both!(human_passwords, |s: TestServer| async move {
    let id = add_human(&s, "pwuser").await;
    assert_eq!(state(&s, &id).await, "USER_STATE_INITIAL");
    let init = format!("/management/v1/users/{id}/password/_initialize");
    let set = format!("/management/v1/users/{id}/password");
    for (pw, rule) in [
        ("Sh0rt!", "at least 8 characters"),
        ("PASSWORD1!", "lower case"),
        ("password1!", "upper case"),
        ("Password!!", "number"),
        ("Password12", "symbol"),
    ] {
        assert_err(
            &s.admin("POST", &init, Some(json!({ "password": pw })))
                .await,
            400,
            3,
            rule,
        );
        assert_err(
            &s.admin("POST", &set, Some(json!({ "password": pw }))).await,
            400,
            3,
            rule,
        );
    }
    assert_err(
        &s.admin("POST", &set, Some(json!({"password": ""}))).await,
        400,
        3,
        "password must not be empty",
    );
    assert_eq!(state(&s, &id).await, "USER_STATE_INITIAL");

    ok(
        s.admin("POST", &init, Some(json!({"password": "Password1!"})))
            .await,
    );
    let u = get_user(&s, &id).await;
    assert_eq!(u["state"], "USER_STATE_ACTIVE");
    let first = u["human"]["passwordChanged"].clone();
    assert!(first.is_string(), "{u}");
    assert_err(
        &s.admin("POST", &init, Some(json!({"password": "Password2!"})))
            .await,
        400,
        9,
        "already has a password",
    );
    ok(s.admin(
        "POST",
        &set,
        Some(json!({"password": "Password2!", "noChangeRequired": true})),
    )
    .await);
    let u = get_user(&s, &id).await;
    assert_eq!(u["state"], "USER_STATE_ACTIVE");
    assert!(u["human"]["passwordChanged"].is_string());
    assert_err(
        &s.admin(
            "POST",
            "/management/v1/users/404404/password",
            Some(json!({"password": "Password2!"})),
        )
        .await,
        404,
        5,
        "User could not be found",
    );
});

both!(human_only_rpcs_on_a_machine, |s: TestServer| async move {
    let m = add_machine(&s, "not-human").await;
    let b = format!("/management/v1/users/{m}");
    let calls: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("{b}/profile"), None),
        (
            "PUT",
            format!("{b}/profile"),
            Some(json!({"firstName": "A", "lastName": "B"})),
        ),
        ("GET", format!("{b}/email"), None),
        (
            "PUT",
            format!("{b}/email"),
            Some(json!({"email": "a@example.com"})),
        ),
        ("GET", format!("{b}/phone"), None),
        (
            "PUT",
            format!("{b}/phone"),
            Some(json!({"phone": "+41711234567"})),
        ),
        ("DELETE", format!("{b}/phone"), None),
        (
            "POST",
            format!("{b}/password"),
            Some(json!({"password": "Password1!"})),
        ),
        (
            "POST",
            format!("{b}/password/_initialize"),
            Some(json!({"password": "Password1!"})),
        ),
    ];
    for (method, path, body) in calls {
        let r = s.admin(method, &path, body).await;
        assert_err(&r, 400, 9, "not a human user");
    }
});

both!(bad_input_is_rejected, |s: TestServer| async move {
    add_human(&s, "dup").await;
    let add = |body: Value| {
        let s = &s;
        async move {
            s.admin("POST", "/management/v1/users/human", Some(body))
                .await
        }
    };
    let machine = |body: Value| {
        let s = &s;
        async move {
            s.admin("POST", "/management/v1/users/machine", Some(body))
                .await
        }
    };
    // Duplicates, also across kinds and case.
    assert_err(&add(human_body("dup")).await, 409, 6, "already exists");
    assert_err(&add(human_body("DUP")).await, 409, 6, "already exists");
    assert_err(
        &machine(json!({"userName": "dup", "name": "x"})).await,
        409,
        6,
        "already exists",
    );
    assert_err(&add(human_body("admin-sa")).await, 409, 6, "already exists");
    // Names.
    assert_err(
        &add(human_body("")).await,
        400,
        3,
        "userName must not be empty",
    );
    assert_err(
        &add(human_body("   ")).await,
        400,
        3,
        "userName must not be empty",
    );
    assert_err(
        &add(human_body(&"u".repeat(201))).await,
        400,
        3,
        "userName must be at most 200",
    );
    assert_err(&add(human_body("with space")).await, 400, 3, "whitespace");
    // 200 characters are fine.
    ok(add(json!({
        "userName": "u".repeat(200),
        "profile": {"firstName": "f".repeat(200), "lastName": "l"},
        "email": {"email": "long@example.com"}
    }))
    .await);
    let mut b = human_body("p1");
    b["profile"]["firstName"] = json!("");
    assert_err(&add(b).await, 400, 3, "profile.firstName must not be empty");
    let mut b = human_body("p2");
    b["profile"]["lastName"] = json!("x".repeat(201));
    assert_err(
        &add(b).await,
        400,
        3,
        "profile.lastName must be at most 200",
    );
    let mut b = human_body("p3");
    b["profile"]["nickName"] = json!("x".repeat(201));
    assert_err(
        &add(b).await,
        400,
        3,
        "profile.nickName must be at most 200",
    );
    // Missing objects.
    assert_err(
        &add(json!({"userName": "np", "email": {"email": "np@example.com"}})).await,
        400,
        3,
        "profile is required",
    );
    assert_err(
        &add(json!({"userName": "ne", "profile": {"firstName": "a", "lastName": "b"}})).await,
        400,
        3,
        "email is required",
    );
    let mut b = human_body("bad-mail");
    b["email"]["email"] = json!("nope");
    assert_err(
        &add(b).await,
        400,
        3,
        "email.email is not a valid email address",
    );
    let mut b = human_body("bad-phone");
    b["phone"] = json!({"phone": "123"});
    assert_err(
        &add(b).await,
        400,
        3,
        "phone.phone must be an international number",
    );
    let mut b = human_body("weak-pw");
    b["initialPassword"] = json!("password");
    assert_err(&add(b).await, 400, 3, "upper case");
    // Machines.
    assert_err(
        &machine(json!({"userName": "m1", "name": ""})).await,
        400,
        3,
        "name must not be empty",
    );
    assert_err(
        &machine(json!({"userName": "m1", "name": "n".repeat(201)})).await,
        400,
        3,
        "name must be at most 200",
    );
    assert_err(
        &machine(json!({"userName": "m".repeat(201), "name": "n"})).await,
        400,
        3,
        "userName must be at most 200",
    );
    assert_err(
        &machine(json!({"userName": "m1", "name": "n", "description": "d".repeat(501)})).await,
        400,
        3,
        "description must be at most 500",
    );
    // Nothing of the rejected users exists.
    let all = search(&s, json!({})).await;
    assert_eq!(all["details"]["totalResult"], "4", "{all}");
});

both!(user_metadata, |s: TestServer| async move {
    let id = add_human(&s, "meta").await;
    let base = format!("/management/v1/users/{id}/metadata");
    let r = ok(s
        .admin(
            "POST",
            &format!("{base}/color"),
            Some(json!({"value": b64("blue")})),
        )
        .await);
    assert_eq!(r["id"], id.as_str());
    assert!(r["details"]["sequence"].is_string());
    let g = ok(s.admin("GET", &format!("{base}/color"), None).await);
    assert_eq!(g["metadata"]["key"], "color");
    assert_eq!(g["metadata"]["value"], b64("blue"));
    assert!(g["metadata"]["details"]["sequence"].is_string());
    // Overwrite.
    ok(s.admin(
        "POST",
        &format!("{base}/color"),
        Some(json!({"value": b64("red")})),
    )
    .await);
    assert_eq!(
        ok(s.admin("GET", &format!("{base}/color"), None).await)["metadata"]["value"],
        b64("red")
    );
    // Binary values round-trip.
    let bin = B64.encode([0u8, 159, 146, 150, 255]);
    ok(s.admin(
        "POST",
        &format!("{base}/bin"),
        Some(json!({ "value": bin })),
    )
    .await);
    assert_eq!(
        ok(s.admin("GET", &format!("{base}/bin"), None).await)["metadata"]["value"],
        bin.as_str()
    );

    ok(s.admin(
        "POST",
        &format!("{base}/_bulk"),
        Some(json!({"metadata": [
            {"key": "k1", "value": b64("one")},
            {"key": "k2", "value": b64("two")},
        ]})),
    )
    .await);
    let list = ok(s
        .admin(
            "POST",
            &format!("{base}/_search"),
            Some(json!({"query": {"asc": true}})),
        )
        .await);
    assert_eq!(list["details"]["totalResult"], "4");
    let keys: Vec<&str> = list["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|m| m["key"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(keys, vec!["bin", "color", "k1", "k2"]);
    assert_eq!(list["result"][2]["value"], b64("one"));
    let filtered = ok(s
        .admin(
            "POST",
            &format!("{base}/_search"),
            Some(json!({"queries": [{"keyQuery": {"key": "K", "method": "TEXT_QUERY_METHOD_STARTS_WITH_IGNORE_CASE"}}]})),
        )
        .await);
    assert_eq!(filtered["details"]["totalResult"], "2");

    // Remove / bulk remove.
    ok(s.admin("DELETE", &format!("{base}/color"), None).await);
    assert_err(
        &s.admin("GET", &format!("{base}/color"), None).await,
        404,
        5,
        "Metadata not found",
    );
    assert_err(
        &s.admin("DELETE", &format!("{base}/color"), None).await,
        404,
        5,
        "Metadata not found",
    );
    assert_err(
        &s.admin(
            "DELETE",
            &format!("{base}/_bulk"),
            Some(json!({"keys": ["k1", "missing"]})),
        )
        .await,
        404,
        5,
        "missing",
    );
    ok(s.admin(
        "DELETE",
        &format!("{base}/_bulk"),
        Some(json!({"keys": ["k1", "k2"]})),
    )
    .await);
    let list = ok(s
        .admin("POST", &format!("{base}/_search"), Some(json!({})))
        .await);
    assert_eq!(list["result"][0]["key"], "bin");
    assert_eq!(list["result"].as_array().map(Vec::len), Some(1));

    // Bad input.
    assert_err(
        &s.admin("POST", &format!("{base}/empty"), Some(json!({"value": ""})))
            .await,
        400,
        3,
        "value must be 1 byte",
    );
    assert_err(
        &s.admin(
            "POST",
            &format!("{base}/{}", "k".repeat(201)),
            Some(json!({"value": b64("x")})),
        )
        .await,
        400,
        3,
        "key must be 1 to 200",
    );
    assert_err(
        &s.admin(
            "POST",
            &format!("{base}/_bulk"),
            Some(json!({"metadata": []})),
        )
        .await,
        400,
        3,
        "at least one entry",
    );
    assert_err(
        &s.admin(
            "POST",
            &format!("{base}/x"),
            Some(json!({"value": "not base64!"})),
        )
        .await,
        400,
        3,
        "",
    );
    assert_err(
        &s.admin(
            "POST",
            "/management/v1/users/404404/metadata/k",
            Some(json!({"value": b64("x")})),
        )
        .await,
        404,
        5,
        "User could not be found",
    );
});

both!(personal_access_tokens, |s: TestServer| async move {
    let id = add_machine(&s, "pat-bot").await;
    let base = format!("/management/v1/users/{id}/pats");
    let r = ok(s.admin("POST", &base, Some(json!({}))).await);
    let token_id = r["tokenId"].as_str().expect("tokenId").to_string();
    let token = r["token"].as_str().expect("token").to_string();
    assert!(token.len() >= 32);
    assert!(r["details"]["sequence"].is_string());

    // The PAT authenticates as the machine user.
    let me = |t: String| {
        let s = &s;
        async move {
            s.call("GET", "/auth/v1/users/me", None, Some(&t), None)
                .await
        }
    };
    let u = ok(me(token.clone()).await);
    assert_eq!(u["user"]["id"], id.as_str());
    assert_eq!(u["user"]["userName"], "pat-bot");

    // List and get.
    let dated = ok(s
        .admin(
            "POST",
            &base,
            Some(json!({"expirationDate": "2099-01-02T03:04:05Z"})),
        )
        .await);
    let dated_id = dated["tokenId"].as_str().expect("tokenId").to_string();
    let list = ok(s
        .admin(
            "POST",
            &format!("{base}/_search"),
            Some(json!({"query": {"asc": true}})),
        )
        .await);
    assert_eq!(list["details"]["totalResult"], "2");
    assert_eq!(list["result"][0]["id"], token_id.as_str());
    assert_eq!(list["result"][1]["id"], dated_id.as_str());
    assert_eq!(list["result"][1]["expirationDate"], "2099-01-02T03:04:05Z");
    assert!(list["result"][0]["expirationDate"]
        .as_str()
        .is_some_and(|d| d.starts_with("9999-12-31")));
    assert!(list["result"][0]["scopes"]
        .as_array()
        .is_some_and(|s| s.contains(&json!("openid"))));
    let g = ok(s.admin("GET", &format!("{base}/{dated_id}"), None).await);
    assert_eq!(g["token"]["id"], dated_id.as_str());
    assert_eq!(g["token"]["expirationDate"], "2099-01-02T03:04:05Z");
    assert!(g["token"]["details"]["sequence"].is_string());
    // The token itself is never shown again.
    assert!(g["token"].get("token").is_none());
    assert_err(
        &s.admin("GET", &format!("{base}/404404"), None).await,
        404,
        5,
        "Personal access token not found",
    );

    // Expired at creation.
    assert_err(
        &s.admin(
            "POST",
            &base,
            Some(json!({"expirationDate": "2020-01-01T00:00:00Z"})),
        )
        .await,
        400,
        3,
        "expirationDate must be in the future",
    );

    // Deactivated or locked users cannot use their PATs, and can again afterwards.
    ok(act(&s, &id, "_deactivate").await);
    assert_err(&me(token.clone()).await, 401, 16, "");
    ok(act(&s, &id, "_reactivate").await);
    assert_eq!(ok(me(token.clone()).await)["user"]["id"], id.as_str());
    ok(act(&s, &id, "_lock").await);
    assert_err(&me(token.clone()).await, 401, 16, "");
    ok(act(&s, &id, "_unlock").await);
    assert_eq!(ok(me(token.clone()).await)["user"]["id"], id.as_str());

    // A removed PAT no longer works.
    ok(s.admin("DELETE", &format!("{base}/{token_id}"), None).await);
    assert_err(&me(token.clone()).await, 401, 16, "token is invalid");
    assert_err(
        &s.admin("GET", &format!("{base}/{token_id}"), None).await,
        404,
        5,
        "Personal access token not found",
    );
    assert_err(
        &s.admin("DELETE", &format!("{base}/{token_id}"), None).await,
        404,
        5,
        "Personal access token not found",
    );
    let list = ok(s
        .admin("POST", &format!("{base}/_search"), Some(json!({})))
        .await);
    assert_eq!(list["details"]["totalResult"], "1");
    // Removing the user invalidates its remaining PAT.
    let t2 = ok(s.admin("POST", &base, Some(json!({}))).await)["token"]
        .as_str()
        .expect("token")
        .to_string();
    ok(me(t2.clone()).await);
    ok(
        s.admin("DELETE", &format!("/management/v1/users/{id}"), None)
            .await,
    );
    assert_err(&me(t2).await, 401, 16, "");
});

both!(machine_keys, |s: TestServer| async move {
    let id = add_machine(&s, "key-bot").await;
    let base = format!("/management/v1/users/{id}/keys");
    let r = ok(s
        .admin(
            "POST",
            &base,
            Some(json!({"type": "KEY_TYPE_JSON", "expirationDate": "2099-01-01T00:00:00Z"})),
        )
        .await);
    let key_id = r["keyId"].as_str().expect("keyId").to_string();
    assert!(r["details"]["sequence"].is_string());
    let file = B64
        .decode(r["keyDetails"].as_str().expect("keyDetails"))
        .expect("keyDetails is base64");
    let file: Value = serde_json::from_slice(&file).expect("key file is JSON");
    assert_eq!(file["type"], "serviceaccount");
    assert_eq!(file["keyId"], key_id.as_str());
    assert_eq!(file["userId"], id.as_str());
    assert!(
        file["key"]
            .as_str()
            .is_some_and(|k| k.starts_with("-----BEGIN RSA PRIVATE KEY-----")),
        "{file}"
    );

    let list = ok(s
        .admin("POST", &format!("{base}/_search"), Some(json!({})))
        .await);
    assert_eq!(list["details"]["totalResult"], "1");
    assert_eq!(list["result"][0]["id"], key_id.as_str());
    assert_eq!(list["result"][0]["type"], "KEY_TYPE_JSON");
    assert_eq!(list["result"][0]["expirationDate"], "2099-01-01T00:00:00Z");
    let g = ok(s.admin("GET", &format!("{base}/{key_id}"), None).await);
    assert_eq!(g["key"]["id"], key_id.as_str());
    assert_eq!(g["key"]["type"], "KEY_TYPE_JSON");
    assert!(g["key"]["details"]["sequence"].is_string());

    // Bad input.
    assert_err(
        &s.admin("POST", &base, Some(json!({}))).await,
        400,
        3,
        "KEY_TYPE_JSON",
    );
    assert_err(
        &s.admin(
            "POST",
            &base,
            Some(json!({"type": "KEY_TYPE_JSON", "expirationDate": "2001-01-01T00:00:00Z"})),
        )
        .await,
        400,
        3,
        "expirationDate must be in the future",
    );
    assert_err(
        &s.admin("GET", &format!("{base}/404404"), None).await,
        404,
        5,
        "Machine key not found",
    );

    ok(s.admin("DELETE", &format!("{base}/{key_id}"), None).await);
    assert_err(
        &s.admin("GET", &format!("{base}/{key_id}"), None).await,
        404,
        5,
        "Machine key not found",
    );
    assert_err(
        &s.admin("DELETE", &format!("{base}/{key_id}"), None).await,
        404,
        5,
        "Machine key not found",
    );
    let list = ok(s
        .admin("POST", &format!("{base}/_search"), Some(json!({})))
        .await);
    assert!(list["result"].as_array().is_none_or(|a| a.is_empty()));
});

both!(machine_secret, |s: TestServer| async move {
    let id = add_machine(&s, "secret-bot").await;
    let path = format!("/management/v1/users/{id}/secret");
    assert_ne!(get_user(&s, &id).await["machine"]["hasSecret"], true);
    let r = ok(s.admin("PUT", &path, Some(json!({}))).await);
    assert_eq!(r["clientId"], "secret-bot");
    let secret = r["clientSecret"].as_str().expect("clientSecret");
    assert!(secret.len() >= 32);
    assert!(r["details"]["sequence"].is_string());
    assert_eq!(get_user(&s, &id).await["machine"]["hasSecret"], true);
    // A new secret replaces the old one.
    let r2 = ok(s.admin("PUT", &path, Some(json!({}))).await);
    assert_ne!(r2["clientSecret"], r["clientSecret"]);
    ok(s.admin("DELETE", &path, None).await);
    assert_ne!(get_user(&s, &id).await["machine"]["hasSecret"], true);
    assert_err(&s.admin("DELETE", &path, None).await, 404, 5, "secret");
    assert_err(
        &s.admin("PUT", "/management/v1/users/404404/secret", Some(json!({})))
            .await,
        404,
        5,
        "User could not be found",
    );
});

both!(auth_api_for_the_calling_user, |s: TestServer| async move {
    let me = my_id(&s).await;
    ok(s.admin(
        "POST",
        &format!("/management/v1/users/{me}/metadata/team"),
        Some(json!({"value": b64("platform")})),
    )
    .await);
    ok(s.admin(
        "POST",
        &format!("/management/v1/users/{me}/metadata/tier"),
        Some(json!({"value": b64("gold")})),
    )
    .await);

    let list = ok(s
        .admin(
            "POST",
            "/auth/v1/users/me/metadata/_search",
            Some(json!({"query": {"asc": true}})),
        )
        .await);
    assert_eq!(list["details"]["totalResult"], "2");
    assert_eq!(list["result"][0]["key"], "team");
    assert_eq!(list["result"][0]["value"], b64("platform"));
    let filtered = ok(s
        .admin(
            "POST",
            "/auth/v1/users/me/metadata/_search",
            Some(json!({"queries": [{"keyQuery": {"key": "tier", "method": "TEXT_QUERY_METHOD_EQUALS"}}]})),
        )
        .await);
    assert_eq!(filtered["result"][0]["value"], b64("gold"));
    assert_eq!(filtered["result"].as_array().map(Vec::len), Some(1));
    let g = ok(s
        .admin("GET", "/auth/v1/users/me/metadata/team", None)
        .await);
    assert_eq!(g["metadata"]["key"], "team");
    assert_eq!(g["metadata"]["value"], b64("platform"));
    assert_err(
        &s.admin("GET", "/auth/v1/users/me/metadata/none", None)
            .await,
        404,
        5,
        "Metadata not found",
    );

    let changes = ok(s
        .admin(
            "POST",
            "/auth/v1/users/me/changes/_search",
            Some(json!({"query": {"asc": true}})),
        )
        .await);
    let types: Vec<&str> = changes["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|c| c["eventType"]["key"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(types.first(), Some(&"user.machine.added"), "{types:?}");
    assert_eq!(
        types.iter().filter(|t| **t == "user.metadata.set").count(),
        2,
        "{types:?}"
    );

    let perms = ok(s
        .admin(
            "POST",
            "/auth/v1/permissions/zitadel/me/_search",
            Some(json!({})),
        )
        .await);
    let perms: Vec<&str> = perms["result"]
        .as_array()
        .expect("result")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for p in ["org.read", "iam.write", "user.read", "user.write"] {
        assert!(perms.contains(&p), "{p} missing in {perms:?}");
    }

    let ms = ok(s
        .admin("POST", "/auth/v1/memberships/me/_search", Some(json!({})))
        .await);
    let iam = ms["result"]
        .as_array()
        .expect("result")
        .iter()
        .find(|m| m["iam"] == true)
        .expect("IAM membership")
        .clone();
    assert_eq!(iam["userId"], me.as_str());
    assert!(iam["roles"]
        .as_array()
        .is_some_and(|r| r.contains(&json!("IAM_OWNER"))));

    // "me" is the caller wherever the org context points.
    let other = ok(s
        .admin(
            "POST",
            "/management/v1/orgs",
            Some(json!({"name": "Elsewhere"})),
        )
        .await)["id"]
        .as_str()
        .expect("org id")
        .to_string();
    let g = ok(s
        .call(
            "GET",
            "/auth/v1/users/me/metadata/team",
            None,
            Some(&s.pat),
            Some(&other),
        )
        .await);
    assert_eq!(g["metadata"]["value"], b64("platform"));
    let list = ok(s
        .call(
            "POST",
            "/auth/v1/users/me/metadata/_search",
            Some(json!({})),
            Some(&s.pat),
            Some(&other),
        )
        .await);
    assert_eq!(list["details"]["totalResult"], "2");

    // A fresh machine user with a PAT sees only its own, empty, view.
    let bot = add_machine(&s, "plain-bot").await;
    let t = ok(s
        .admin(
            "POST",
            &format!("/management/v1/users/{bot}/pats"),
            Some(json!({})),
        )
        .await)["token"]
        .as_str()
        .expect("token")
        .to_string();
    let mine = ok(s
        .call(
            "POST",
            "/auth/v1/users/me/metadata/_search",
            Some(json!({})),
            Some(&t),
            None,
        )
        .await);
    assert!(mine["result"].as_array().is_none_or(|a| a.is_empty()));
    let ms = ok(s
        .call(
            "POST",
            "/auth/v1/memberships/me/_search",
            Some(json!({})),
            Some(&t),
            None,
        )
        .await);
    assert!(ms["result"].as_array().is_none_or(|a| a.is_empty()));
    let perms = ok(s
        .call(
            "POST",
            "/auth/v1/permissions/zitadel/me/_search",
            Some(json!({})),
            Some(&t),
            None,
        )
        .await);
    assert!(!perms["result"]
        .as_array()
        .is_some_and(|a| a.contains(&json!("iam.write"))));
});

both!(grpc_import_and_list_users, |s: TestServer| async move {
    let token: tonic::metadata::MetadataValue<_> =
        format!("Bearer {}", s.pat).parse().expect("header");
    let mut m = ManagementServiceClient::new(s.channel().await);
    let hash = bcrypt::hash("Import1!", 4).expect("bcrypt");
    let mut req = tonic::Request::new(mgmt::ImportHumanUserRequest {
        user_name: "grpc-imported".into(),
        profile: Some(mgmt::import_human_user_request::Profile {
            first_name: "Grace".into(),
            last_name: "Hopper".into(),
            gender: upb::Gender::Female as i32,
            ..Default::default()
        }),
        email: Some(mgmt::import_human_user_request::Email {
            email: "grace@example.com".into(),
            is_email_verified: true,
        }),
        hashed_password: Some(mgmt::import_human_user_request::HashedPassword { value: hash }),
        ..Default::default()
    });
    req.metadata_mut().insert("authorization", token.clone());
    let res = m
        .import_human_user(req)
        .await
        .expect("ImportHumanUser")
        .into_inner();
    assert!(!res.user_id.is_empty());
    assert!(res.details.as_ref().is_some_and(|d| d.sequence > 0));

    let mut req = tonic::Request::new(mgmt::ListUsersRequest {
        query: Some(castellan_proto::zitadel::v1::ListQuery {
            offset: 0,
            limit: 10,
            asc: true,
        }),
        sorting_column: upb::UserFieldName::UserName as i32,
        queries: vec![upb::SearchQuery {
            query: Some(upb::search_query::Query::EmailQuery(upb::EmailQuery {
                email_address: "GRACE@".into(),
                method: castellan_proto::zitadel::v1::TextQueryMethod::StartsWithIgnoreCase as i32,
            })),
        }],
    });
    req.metadata_mut().insert("authorization", token.clone());
    let list = m.list_users(req).await.expect("ListUsers").into_inner();
    assert_eq!(list.details.as_ref().map(|d| d.total_result), Some(1));
    assert_eq!(list.sorting_column, upb::UserFieldName::UserName as i32);
    let u = &list.result[0];
    assert_eq!(u.id, res.user_id);
    assert_eq!(u.user_name, "grpc-imported");
    assert_eq!(u.state, upb::UserState::Active as i32);
    match &u.r#type {
        Some(upb::user::Type::Human(h)) => {
            let p = h.profile.as_ref().expect("profile");
            assert_eq!(p.first_name, "Grace");
            assert_eq!(p.gender, upb::Gender::Female as i32);
            assert!(h.email.as_ref().is_some_and(|e| e.is_email_verified));
            assert!(h.password_changed.is_some());
        }
        other => panic!("not a human: {other:?}"),
    }

    // Errors come back as gRPC codes.
    let mut dup = tonic::Request::new(mgmt::ImportHumanUserRequest {
        user_name: "grpc-imported".into(),
        profile: Some(mgmt::import_human_user_request::Profile {
            first_name: "G".into(),
            last_name: "H".into(),
            ..Default::default()
        }),
        email: Some(mgmt::import_human_user_request::Email {
            email: "g@example.com".into(),
            is_email_verified: false,
        }),
        ..Default::default()
    });
    dup.metadata_mut().insert("authorization", token.clone());
    let e = m.import_human_user(dup).await.expect_err("duplicate");
    assert_eq!(e.code(), tonic::Code::AlreadyExists);
    let mut bad = tonic::Request::new(mgmt::ImportHumanUserRequest {
        user_name: "grpc-bad".into(),
        profile: Some(mgmt::import_human_user_request::Profile {
            first_name: "G".into(),
            last_name: "H".into(),
            ..Default::default()
        }),
        email: Some(mgmt::import_human_user_request::Email {
            email: "g2@example.com".into(),
            is_email_verified: false,
        }),
        hashed_password: Some(mgmt::import_human_user_request::HashedPassword {
            value: "{SSHA}abc".into(),
        }),
        ..Default::default()
    });
    bad.metadata_mut().insert("authorization", token);
    let e = m.import_human_user(bad).await.expect_err("bad hash");
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(e.message().contains("not supported"), "{}", e.message());
});

/// Malformed argon2 PHC strings (no salt, no hash, unknown variant) must be rejected like any
/// other unsupported hash: such a user could never log in.
async fn import_rejects_malformed_argon2_hash_body(s: TestServer) {
    for bad in [
        "$argon2id$garbage",
        "$argon2id$v=19$m=64,t=1,p=1",
        "$argon2nope$v=19$m=64,t=1,p=1$YiHf76fbbIm5JKOEpeBR8w$Pkpw2zacDsCcPeaztaMdmhrdSehIxrdRz3T7X92QrHA",
    ] {
        let mut b = human_body("malformed");
        b["hashedPassword"] = json!({ "value": bad });
        assert_err(
            &s.admin("POST", "/management/v1/users/human/_import", Some(b))
                .await,
            400,
            3,
            "hash format is not supported",
        );
    }
}

both!(
    import_rejects_malformed_argon2_hash,
    import_rejects_malformed_argon2_hash_body
);
