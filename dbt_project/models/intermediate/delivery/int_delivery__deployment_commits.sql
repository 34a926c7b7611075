-- One row per (successful production deployment, commit it shipped): change linking by the commit graph, not
-- by time. A deployment of commit X ships the mainline commits reachable from X and not from the commit of the
-- previous successful production deployment of the same service and environment (by finish time), i.e. the
-- mainline positions in (previous position, position of X]. A rollback to an older commit ships nothing; the
-- deployment after it ships the rolled-back commits again. The first deployment of a service ships everything
-- reachable from it that was loaded (not dropped, as DevLake does). A previous deployment whose commit is not on
-- the mainline we know is skipped as a boundary. Deployments whose commit is not on a known mainline fall back
-- to the change set the tool itself lists (Jenkins git changeSets: the commits since the job's previous build).
with

deployments as (

    select * from {{ ref('int_delivery__deployments') }}

),

mainline as (

    select * from {{ ref('int_delivery__mainline_commits') }}

),

successful_production as (

    select
        *,
        last_value(mainline_position ignore nulls) over (
            partition by coalesce(service, repo_full_name), environment
            order by finished_at, deployment_id
            rows between unbounded preceding and 1 preceding
        ) as previous_position
    from deployments
    where is_production and result = 'success'

),

by_graph as (

    select
        d.deployment_id,
        m.commit_sha,
        m.mainline_position,
        m.committed_at,
        m.chain_source as link_method
    from successful_production as d
    inner join mainline as m
        on m.repo_full_name = d.repo_full_name
        and m.is_listed
        and m.mainline_position <= d.mainline_position
        and m.mainline_position > coalesce(d.previous_position, 0)
    where d.mainline_position is not null

),

by_change_set as (

    select
        d.deployment_id,
        sha.commit_sha,
        cast(null as bigint) as mainline_position,
        cast(null as timestamptz) as committed_at,
        'change_set' as link_method
    from successful_production as d,
        unnest(d.changed_commit_shas) as sha(commit_sha)
    where d.mainline_position is null and d.changed_commit_shas is not null

),

final as (

    select * from by_graph
    union all
    select distinct * from by_change_set

)

select * from final
