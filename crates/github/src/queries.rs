//! The GraphQL documents the connector sends (see `docs/github-api.md`).

/// Pull requests with their commits and reviews, newest update first.
pub const PULL_REQUESTS: &str = r#"query($owner:String!,$name:String!,$pageSize:Int!,$cursor:String){
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

/// Default-branch history, newest first.
pub const HISTORY: &str = r#"query($owner:String!,$name:String!,$pageSize:Int!,$cursor:String,$since:GitTimestamp){
  rateLimit{cost remaining resetAt}
  repository(owner:$owner,name:$name){
    defaultBranchRef{name target{... on Commit{
      history(first:$pageSize,after:$cursor,since:$since){
        totalCount pageInfo{endCursor hasNextPage}
        nodes{oid messageHeadline committedDate authoredDate parents{totalCount} author{name email user{login}}}
      }}}}
  }
}"#;

/// Deployments with their statuses, newest first.
pub const DEPLOYMENTS: &str = r#"query($owner:String!,$name:String!,$pageSize:Int!,$cursor:String){
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
