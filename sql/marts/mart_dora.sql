-- DORA metrics per period (ISO week from Monday, calendar month; UTC) and scope (org =
-- workspace, team = the repo's team from flowlake_teams, repo). A row exists for every
-- period in which the scope deployed, shipped a PR or resolved an incident.
--
--   deployments          successful production deployments finished in the period
--   deployment_days      distinct UTC days with one
--   lead_time_p*_h       true percentiles (quantile_cont: exact, full-precision interpolation) of lead_time_h of the PRs whose
--                        deployment finished in the period
--   change_failure_rate  deployments with caused_incident / deployments
--   recovery_time_p50_h  median restore_time_h of incidents resolved in the period
--   rework_rate          deployments with is_rework / deployments
--
-- Bands follow the DORA report selected by flowlake_config.dora_bands_version ('2023' or
-- '2021'); docs/metrics.md gives the thresholds.
with deployments as (
    select * from fct_deployments
),

pull_requests as (
    select * from fct_pull_requests
),

incidents as (
    select * from fct_incidents
),

config as (
    select * from flowlake_config
),

grains as (
    select 'week' as grain
    union all
    select 'month' as grain
),

deployment_facts as (
    select
        workspace,
        repo,
        team,
        finished_at as event_at,
        'deployment' as fact,
        cast(null as double) as value_h,
        -- 0/1 flags rather than booleans: DataFusion 55 disagrees with itself about the
        -- nullability of a boolean derived through the views (an internal error at execution).
        case when caused_incident then 1 else 0 end as is_failed,
        case when is_rework then 1 else 0 end as is_rework
    from deployments
    where is_success
),

lead_time_facts as (
    select
        p.workspace,
        p.repo,
        d.team,
        p.deployed_at as event_at,
        'lead_time' as fact,
        p.lead_time_h as value_h,
        0 as is_failed,
        0 as is_rework
    from pull_requests as p
    inner join deployments as d
        on d.deployment_key = p.deployment_key
    where p.lead_time_h is not null
      and p.deleted_at is null
),

recovery_facts as (
    select
        workspace,
        repo,
        team,
        resolved_at as event_at,
        'recovery' as fact,
        restore_time_h as value_h,
        0 as is_failed,
        0 as is_rework
    from incidents
    where restore_time_h is not null
),

facts as (
    select * from deployment_facts
    union all
    select * from lead_time_facts
    union all
    select * from recovery_facts
),

scoped as (
    select workspace, 'org' as scope_type, workspace as scope, event_at, fact, value_h, is_failed, is_rework
    from facts
    union all
    select workspace, 'team' as scope_type, team as scope, event_at, fact, value_h, is_failed, is_rework
    from facts
    where team is not null
    union all
    select workspace, 'repo' as scope_type, repo as scope, event_at, fact, value_h, is_failed, is_rework
    from facts
    where repo is not null
),

periodized as (
    select
        s.*,
        g.grain,
        case
            when g.grain = 'week' then date_trunc('week', s.event_at)
            else date_trunc('month', s.event_at)
        end as period_start
    from scoped as s
    cross join grains as g
),

aggregated as (
    select
        workspace,
        grain,
        period_start,
        scope_type,
        scope,
        cast(sum(case when fact = 'deployment' then 1 else 0 end) as bigint) as deployments,
        count(distinct case when fact = 'deployment' then cast(event_at as date) end) as deployment_days,
        cast(sum(case when fact = 'deployment' then is_failed else 0 end) as bigint) as failed_deployments,
        cast(sum(case when fact = 'deployment' then is_rework else 0 end) as bigint) as rework_deployments,
        count(case when fact = 'lead_time' then value_h end) as lead_time_prs,
        quantile_cont(case when fact = 'lead_time' then value_h end, 0.5) as lead_time_p50_h,
        quantile_cont(case when fact = 'lead_time' then value_h end, 0.75) as lead_time_p75_h,
        quantile_cont(case when fact = 'lead_time' then value_h end, 0.9) as lead_time_p90_h,
        count(case when fact = 'recovery' then value_h end) as incidents_resolved,
        quantile_cont(case when fact = 'recovery' then value_h end, 0.5) as recovery_time_p50_h
    from periodized
    group by workspace, grain, period_start, scope_type, scope
),

rated as (
    select
        *,
        case
            when grain = 'week' then 7.0
            else (date_part('epoch', period_start + interval '1 month') - date_part('epoch', period_start)) / 86400.0
        end as period_days,
        case
            when deployments > 0 then cast(failed_deployments as double) / cast(deployments as double)
        end as change_failure_rate,
        case
            when deployments > 0 then cast(rework_deployments as double) / cast(deployments as double)
        end as rework_rate
    from aggregated
),

banded as (
    select
        r.*,
        config.dora_bands_version,
        cast(r.deployments as double) * 7.0 / r.period_days as deployments_per_week,
        case
            when config.dora_bands_version = '2021' then
                case
                    when cast(r.deployments as double) / r.period_days >= 1.0 then 'elite'
                    when cast(r.deployments as double) * 30.4375 / r.period_days >= 1.0 then 'high'
                    when cast(r.deployments as double) * 182.625 / r.period_days >= 1.0 then 'medium'
                    else 'low'
                end
            else
                case
                    when cast(r.deployments as double) / r.period_days >= 1.0 then 'elite'
                    when cast(r.deployments as double) * 7.0 / r.period_days >= 1.0 then 'high'
                    when cast(r.deployments as double) * 30.4375 / r.period_days >= 1.0 then 'medium'
                    else 'low'
                end
        end as deployment_frequency_band,
        case
            when r.lead_time_p50_h is null then null
            when config.dora_bands_version = '2021' then
                case
                    when r.lead_time_p50_h < 1.0 then 'elite'
                    when r.lead_time_p50_h < 168.0 then 'high'
                    when r.lead_time_p50_h < 4383.0 then 'medium'
                    else 'low'
                end
            else
                case
                    when r.lead_time_p50_h < 24.0 then 'elite'
                    when r.lead_time_p50_h < 168.0 then 'high'
                    when r.lead_time_p50_h < 730.5 then 'medium'
                    else 'low'
                end
        end as lead_time_band,
        case
            when r.change_failure_rate is null then null
            when config.dora_bands_version = '2021' then
                case
                    when r.change_failure_rate <= 0.15 then 'elite'
                    when r.change_failure_rate <= 0.20 then 'high'
                    when r.change_failure_rate <= 0.30 then 'medium'
                    else 'low'
                end
            else
                case
                    when r.change_failure_rate <= 0.05 then 'elite'
                    when r.change_failure_rate <= 0.10 then 'high'
                    when r.change_failure_rate <= 0.15 then 'medium'
                    else 'low'
                end
        end as change_failure_band,
        case
            when r.recovery_time_p50_h is null then null
            when r.recovery_time_p50_h < 1.0 then 'elite'
            when r.recovery_time_p50_h < 24.0 then 'high'
            when r.recovery_time_p50_h < 168.0 then 'medium'
            else 'low'
        end as recovery_time_band
    from rated as r
    cross join config
),

final as (
    select
        workspace,
        grain,
        period_start,
        scope_type,
        scope,
        deployments,
        deployment_days,
        deployments_per_week,
        lead_time_prs,
        lead_time_p50_h,
        lead_time_p75_h,
        lead_time_p90_h,
        failed_deployments,
        change_failure_rate,
        incidents_resolved,
        recovery_time_p50_h,
        rework_deployments,
        rework_rate,
        deployment_frequency_band,
        lead_time_band,
        change_failure_band,
        recovery_time_band,
        dora_bands_version
    from banded
)

select * from final
