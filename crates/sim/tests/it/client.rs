//! A minimal HTTP/1.1 client: one request per connection (`Connection: close`).

use std::net::SocketAddr;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A parsed response.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn header_u64(&self, name: &str) -> u64 {
        self.header(name)
            .unwrap_or_else(|| panic!("missing header {name}"))
            .parse()
            .unwrap()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("bad JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The URL of `rel="next"` in the Link header, as a path and query.
    pub fn next_link(&self) -> Option<String> {
        let link = self.header("link")?;
        link.split(", ")
            .find(|p| p.ends_with("rel=\"next\""))
            .map(|p| {
                let url = p.trim_start_matches('<').split('>').next().unwrap();
                let without_scheme = url.trim_start_matches("http://");
                without_scheme[without_scheme.find('/').unwrap()..].to_string()
            })
    }
}

pub async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: Option<&str>,
) -> Resp {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nUser-Agent: sim-it\r\n"
    );
    if let Some(a) = auth {
        req.push_str(&format!("Authorization: {a}\r\n"));
    }
    let body = body.unwrap_or("");
    if method == "POST" {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    parse(&raw)
}

fn parse(raw: &[u8]) -> Resp {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&data[..eol]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 4 + size..];
    }
}

/// A client bound to one simulator with the right token.
#[derive(Clone, Copy)]
pub struct Client {
    pub addr: SocketAddr,
}

pub const AUTH: &str = "Bearer sim-token";

impl Client {
    pub async fn get(&self, path: &str) -> Resp {
        send(self.addr, "GET", path, Some(AUTH), None).await
    }

    pub async fn graphql(&self, query: &str, vars: Value) -> Resp {
        let body = serde_json::json!({ "query": query, "variables": vars }).to_string();
        send(self.addr, "POST", "/graphql", Some(AUTH), Some(&body)).await
    }

    pub async fn post(&self, path: &str) -> Resp {
        send(self.addr, "POST", path, None, Some("")).await
    }
}

pub const PR_QUERY: &str = r#"query($owner:String!,$name:String!,$pageSize:Int!,$cursor:String){
  rateLimit{cost remaining resetAt}
  repository(owner:$owner,name:$name){
    pullRequests(first:$pageSize,after:$cursor,orderBy:{field:UPDATED_AT,direction:DESC}){
      totalCount pageInfo{endCursor hasNextPage}
      nodes{
        id databaseId number title state isDraft createdAt updatedAt closedAt mergedAt
        additions deletions changedFiles baseRefName headRefName
        author{__typename login} mergeCommit{oid}
        labels(first:20){nodes{name}}
        commits(first:100){totalCount nodes{commit{oid message committedDate authoredDate additions deletions author{name email user{login}}}}}
        reviews(first:100){totalCount nodes{id state submittedAt author{__typename login} comments{totalCount}}}
      }
    }
  }
}"#;

pub const HISTORY_QUERY: &str = r#"query($owner:String!,$name:String!,$pageSize:Int!,$cursor:String,$since:GitTimestamp){
  rateLimit{cost remaining resetAt}
  repository(owner:$owner,name:$name){
    defaultBranchRef{name target{... on Commit{
      history(first:$pageSize,after:$cursor,since:$since){
        totalCount pageInfo{endCursor hasNextPage}
        nodes{oid messageHeadline committedDate authoredDate parents{totalCount} author{name email user{login}}}
      }}}}
  }
}"#;

pub const DEPLOYMENTS_QUERY: &str = r#"query($owner:String!,$name:String!,$pageSize:Int!,$cursor:String){
  rateLimit{cost remaining resetAt}
  repository(owner:$owner,name:$name){
    deployments(first:$pageSize,after:$cursor,orderBy:{field:CREATED_AT,direction:DESC}){
      totalCount pageInfo{endCursor hasNextPage}
      nodes{id databaseId task environment state commitOid createdAt updatedAt
        ref{name} creator{login}
        statuses(first:20){nodes{state createdAt}}
        latestStatus{state createdAt}}
    }
  }
}"#;
