-- Hours Jira work items spent in active statuses, per team × person × business category × calendar month
-- (UTC): the effort record people cost is allocated by. An item's active time is cut at assignee changes (the
-- hours go to whoever was assigned at the time) and at month boundaries (a period spanning two months counts
-- in each for the part that fell in it). Only work items count (standard issues: no epics, whose "In Progress"
-- spans months of other items' work, and no subtasks, whose time their parent already carries). Open periods
-- run to the data's as-of time.
with

issues as (

    select * from {{ ref('int_work__issues') }} where is_work_item

),

pieces as (

    -- active time cut by assignee
    select * from {{ ref('int_work__assignee_active_time') }}

),

jira_identities as (

    select * from {{ ref('int_identity_map') }} where tool = 'jira'

),

monthly_pieces as (

    -- ... and by calendar month
    select
        pieces.issue_id,
        pieces.assignee_account_id,
        month_start,
        greatest(pieces.piece_start, {{ utc_midnight('month_start') }}) as part_start,
        least(pieces.piece_end, {{ utc_midnight("month_start + interval 1 month") }}) as part_end

    from pieces,
        unnest(
            generate_series(
                {{ utc_period_start('month', 'pieces.piece_start') }},
                {{ utc_period_start('month', 'pieces.piece_end') }},
                interval 1 month
            )
        ) as months(month_start)

),

attributed as (

    select
        monthly_pieces.issue_id,
        cast(monthly_pieces.month_start as date) as month_start,
        person.person_key,
        coalesce(person.team_key, issues.team_key) as team_key,
        issues.business_category,
        issues.initiative_type,
        issues.is_interrupt,
        issues.is_incident,
        epoch(monthly_pieces.part_end - monthly_pieces.part_start) / 3600.0 as hours

    from monthly_pieces
    inner join issues on monthly_pieces.issue_id = issues.issue_id
    left join jira_identities as person
        on monthly_pieces.assignee_account_id = person.identity
        and cast(monthly_pieces.part_start at time zone 'UTC' as date) >= person.valid_from
        and (person.valid_to is null or cast(monthly_pieces.part_start at time zone 'UTC' as date) < person.valid_to)
    where monthly_pieces.part_end > monthly_pieces.part_start

),

aggregated as (

    select
        team_key,
        person_key,
        business_category,
        month_start,
        {{ sum_exact('hours') }} as active_hours,
        coalesce({{ sum_exact('hours', "initiative_type = 'ktlo'") }}, 0) as ktlo_active_hours,
        coalesce({{ sum_exact('hours', "initiative_type = 'strategic'") }}, 0) as strategic_active_hours,
        coalesce({{ sum_exact('hours', 'is_interrupt') }}, 0) as interrupt_active_hours,
        coalesce({{ sum_exact('hours', 'is_incident') }}, 0) as incident_active_hours,
        count(distinct issue_id) as work_item_count

    from attributed
    group by team_key, person_key, business_category, month_start

),

final as (

    select
        team_key,
        person_key,
        business_category,
        month_start,
        active_hours,
        ktlo_active_hours,
        strategic_active_hours,
        interrupt_active_hours,
        incident_active_hours,
        work_item_count,
        active_hours / cast(
            sum(cast(active_hours as decimal(38, 10))) over (partition by team_key, month_start) as double
        ) as share_of_team_month

    from aggregated

)

select * from final
