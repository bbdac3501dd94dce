//! `identity.v1.TeamService`: a tenant's team as its own members manage it. The tenant is the
//! session's of the token the policy layer verified, never the request's.

use tonic::{Request, Response, Status};

use super::{
    auth::scope,
    convert::{order, page_metadata},
    pb::{self, team_service_server::TeamService},
    roles::role_pb,
    users::to_pb as user_to_pb,
};
use crate::{
    domain::{Error, page::PageRequest, user::UserSort},
    service::{Team, team::Member},
};

/// gRPC face of a tenant's team.
pub struct TeamApi {
    team: Team,
}

impl TeamApi {
    /// Serves `team`.
    pub fn new(team: Team) -> Self {
        Self { team }
    }
}

fn member_pb(member: Member, vendor_id: &str) -> pb::TeamMember {
    pb::TeamMember {
        user: Some(user_to_pb(member.user)),
        roles: member.roles.into_iter().map(|r| role_pb(r, vendor_id)).collect(),
    }
}

#[tonic::async_trait]
impl TeamService for TeamApi {
    async fn list_team_members(
        &self,
        request: Request<pb::ListTeamMembersRequest>,
    ) -> Result<Response<pb::ListTeamMembersResponse>, Status> {
        let scope = scope(&request)?;
        let r = request.into_inner();
        let size = if r.page_size == 0 {
            crate::domain::page::DEFAULT_LIMIT as i64
        } else {
            r.page_size.into()
        };
        let offset = i64::from(r.page_offset)
            .checked_mul(size)
            .filter(|_| r.page_offset >= 0)
            .ok_or_else(|| Error::invalid("page_offset", "must be a page number from 0"))?;
        let page = PageRequest::parse(size, offset).map_err(|mut v| {
            v.field = if v.field == "limit" {
                "page_size"
            } else {
                "page_offset"
            }
            .to_owned();
            Error::from(v)
        })?;
        let sort = match pb::UserSortBy::try_from(r.sort_by) {
            Ok(pb::UserSortBy::Unspecified | pb::UserSortBy::CreatedAt) => UserSort::CreatedAt,
            Ok(pb::UserSortBy::Name) => UserSort::Name,
            Ok(pb::UserSortBy::Email) => UserSort::Email,
            Ok(pb::UserSortBy::Id) => UserSort::Id,
            Ok(pb::UserSortBy::Verified) => UserSort::Verified,
            Ok(pb::UserSortBy::IsLocked) => UserSort::Locked,
            Err(_) => return Err(Error::invalid("sort_by", "is not a known sort field").into()),
        };
        let query = crate::service::team::MemberQuery {
            search: Some(r.search).filter(|s| !s.trim().is_empty()),
            sort,
            order: order(r.order)?,
        };
        let listed = self.team.members(&scope, query, page).await?;
        let vendor = scope.environment_id();
        Ok(Response::new(pb::ListTeamMembersResponse {
            metadata: Some(page_metadata(&listed)),
            items: listed.items.into_iter().map(|m| member_pb(m, vendor)).collect(),
        }))
    }

    async fn set_team_member_roles(
        &self,
        request: Request<pb::SetTeamMemberRolesRequest>,
    ) -> Result<Response<pb::SetTeamMemberRolesResponse>, Status> {
        let scope = scope(&request)?;
        let r = request.into_inner();
        let member = self.team.set_roles(&scope, &r.user_id, r.role_ids).await?;
        Ok(Response::new(pb::SetTeamMemberRolesResponse {
            member: Some(member_pb(member, scope.environment_id())),
        }))
    }

    async fn remove_team_member(
        &self,
        request: Request<pb::RemoveTeamMemberRequest>,
    ) -> Result<Response<pb::RemoveTeamMemberResponse>, Status> {
        let scope = scope(&request)?;
        self.team.remove(&scope, &request.into_inner().user_id).await?;
        Ok(Response::new(pb::RemoveTeamMemberResponse {}))
    }

    async fn list_team_roles(
        &self,
        request: Request<pb::ListTeamRolesRequest>,
    ) -> Result<Response<pb::ListTeamRolesResponse>, Status> {
        let scope = scope(&request)?;
        let roles = self.team.roles(&scope).await?;
        let vendor = scope.environment_id();
        Ok(Response::new(pb::ListTeamRolesResponse {
            roles: roles.into_iter().map(|r| role_pb(r, vendor)).collect(),
        }))
    }

    async fn get_team_stats(
        &self,
        request: Request<pb::GetTeamStatsRequest>,
    ) -> Result<Response<pb::GetTeamStatsResponse>, Status> {
        let scope = scope(&request)?;
        let stats = self.team.stats(&scope).await?;
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        Ok(Response::new(pb::GetTeamStatsResponse {
            total_items: count(stats.members),
            added_this_week: count(stats.added_this_week),
            super_admins: count(stats.super_users),
        }))
    }
}
