-- One row per (tool, identity) seen in activity that is neither a person of the people seed (on login or
-- e-mail) nor a bot by techledger_metrics.bot_pattern: the accounts someone should add to the people seed.
with

activity as (

    select * from {{ ref('int_identity__activity') }}

),

unresolved as (

    select * from activity
    where person_key is null and not is_bot

),

final as (

    select
        tool,
        identity,
        min(email) as email,
        list(distinct activity order by activity) as activities,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at,
        sum(activity_count) as activity_count
    from unresolved
    group by tool, identity

)

select * from final
