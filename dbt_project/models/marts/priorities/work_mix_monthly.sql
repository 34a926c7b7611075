-- What each team's Jira work was made of, per calendar month (UTC): planned vs unplanned, KTLO vs strategic, time
-- on incidents, and the hygiene of its priorities (top-priority items open at the month's end, their age, the
-- share of new items created at the top priority), with the change from the previous month. Definitions in
-- work_mix_monthly.yml.
with

work_items as (

    select * from {{ ref('fct_work_items') }} where is_work_item and team_key is not null

),

status_periods as (

    select * from {{ ref('int_work__status_periods') }}

),

open_items as (

    select * from {{ ref('int_priorities__open_items_monthly') }}

),

incidents as (

    select * from {{ ref('fct_incidents') }}

),

jira_projects as (

    select * from {{ ref('jira_projects') }}

),

as_of as (

    select max(measured_until) as data_as_of from status_periods

),

months as (

    select
        cast(month_start as date) as month_start,
        -- the month's end instant; for the running month, the data's as-of time
        least({{ utc_midnight('cast(month_start as date) + interval 1 month') }}, as_of.data_as_of) as snapshot_at,
        {{ utc_midnight('cast(month_start as date) + interval 1 month') }} > as_of.data_as_of as is_partial_month

    from as_of,
        range(
            cast((select {{ utc_period_start('month', 'min(created_at)') }} from work_items) as timestamp),
            cast({{ utc_period_start('month', 'as_of.data_as_of') }} as timestamp) + interval 1 month,
            interval 1 month
        ) as spine(month_start)

),

grid as (

    select teams.team_key, months.month_start, months.snapshot_at, months.is_partial_month
    from (select distinct team_key from jira_projects) as teams
    cross join months

),

-- items created in the month --------------------------------------------------------------------------------

created as (

    select
        team_key,
        {{ utc_period_start('month', 'created_at') }} as month_start,
        count(*) as items_created,
        count(*) filter (where is_planned) as planned_items_created,
        count(*) filter (where not is_planned) as unplanned_items_created,
        count(*) filter (where initiative_type = 'ktlo') as ktlo_items_created,
        count(*) filter (where initiative_type = 'strategic') as strategic_items_created,
        count(*) filter (where is_top_priority_at_creation) as top_priority_items_created

    from work_items
    group by all

),

-- active time in the month ----------------------------------------------------------------------------------

active_parts as (

    -- active status periods of work items, split at month boundaries
    select
        status_periods.issue_id,
        cast(month_start as date) as month_start,
        epoch(
            least(status_periods.measured_until, {{ utc_midnight('cast(month_start as date) + interval 1 month') }})
            - greatest(status_periods.entered_at, {{ utc_midnight('cast(month_start as date)') }})
        ) / 3600.0 as hours

    from status_periods,
        unnest(
            generate_series(
                {{ utc_period_start('month', 'status_periods.entered_at') }},
                {{ utc_period_start('month', 'status_periods.measured_until') }},
                interval 1 month
            )
        ) as spine(month_start)
    where status_periods.is_active and status_periods.measured_until > status_periods.entered_at

),

active as (

    select
        work_items.team_key,
        active_parts.month_start,
        -- order-independent sums (sum_exact): a rebuild of the same data changes nothing
        {{ sum_exact('active_parts.hours') }} as active_hours,
        coalesce({{ sum_exact('active_parts.hours', 'work_items.is_planned') }}, 0) as planned_active_hours,
        coalesce({{ sum_exact('active_parts.hours', 'not work_items.is_planned') }}, 0) as unplanned_active_hours,
        coalesce({{ sum_exact('active_parts.hours', "work_items.initiative_type = 'ktlo'") }}, 0) as ktlo_active_hours,
        coalesce({{ sum_exact('active_parts.hours', "work_items.initiative_type = 'strategic'") }}, 0)
            as strategic_active_hours,
        coalesce({{ sum_exact('active_parts.hours', 'work_items.is_incident') }}, 0) as incident_ticket_active_hours,
        count(distinct active_parts.issue_id) as items_worked

    from active_parts
    inner join work_items on active_parts.issue_id = work_items.issue_id
    where active_parts.hours > 0
    group by all

),

-- incidents (outage sources) ---------------------------------------------------------------------------------

team_incidents as (

    select
        team_key,
        {{ utc_period_start('month', 'started_at') }} as month_start,
        count(*) as incidents_started,
        {{ sum_exact('restore_hours') }} as incident_restore_hours

    from incidents
    where team_key is not null
        and regexp_matches(source_system, '{{ metric_var("incident_outage_source_pattern") }}')
    group by all

),

-- priority hygiene at the month's end ------------------------------------------------------------------------

hygiene as (

    select
        team_key,
        month_start,
        count(*) as open_items,
        count(*) filter (where is_top_priority) as open_top_priority_items,
        quantile_cont(age_days, 0.5) filter (where is_top_priority) as open_top_priority_age_p50_days

    from open_items
    where team_key is not null
    group by all

),

joined as (

    select
        grid.team_key,
        grid.month_start,
        grid.is_partial_month,
        grid.snapshot_at,
        coalesce(created.items_created, 0) as items_created,
        coalesce(created.planned_items_created, 0) as planned_items_created,
        coalesce(created.unplanned_items_created, 0) as unplanned_items_created,
        coalesce(created.ktlo_items_created, 0) as ktlo_items_created,
        coalesce(created.strategic_items_created, 0) as strategic_items_created,
        coalesce(active.items_worked, 0) as items_worked,
        coalesce(active.active_hours, 0) as active_hours,
        coalesce(active.planned_active_hours, 0) as planned_active_hours,
        coalesce(active.unplanned_active_hours, 0) as unplanned_active_hours,
        coalesce(active.ktlo_active_hours, 0) as ktlo_active_hours,
        coalesce(active.strategic_active_hours, 0) as strategic_active_hours,
        coalesce(active.incident_ticket_active_hours, 0) as incident_ticket_active_hours,
        coalesce(team_incidents.incidents_started, 0) as incidents_started,
        coalesce(team_incidents.incident_restore_hours, 0) as incident_restore_hours,
        coalesce(created.top_priority_items_created, 0) as top_priority_items_created,
        coalesce(hygiene.open_items, 0) as open_items,
        coalesce(hygiene.open_top_priority_items, 0) as open_top_priority_items,
        hygiene.open_top_priority_age_p50_days

    from grid
    left join created on grid.team_key = created.team_key and grid.month_start = created.month_start
    left join active on grid.team_key = active.team_key and grid.month_start = active.month_start
    left join team_incidents
        on grid.team_key = team_incidents.team_key and grid.month_start = team_incidents.month_start
    left join hygiene on grid.team_key = hygiene.team_key and grid.month_start = hygiene.month_start

),

shares as (

    -- shares and their month-over-month changes are rounded to 4 decimals (0.01 percentage point)
    select
        *,
        unplanned_items_created / nullif(items_created, 0) as unplanned_item_share_exact,
        unplanned_active_hours / nullif(active_hours, 0) as unplanned_hours_share_exact,
        top_priority_items_created / nullif(items_created, 0) as top_priority_created_share_exact,
        open_top_priority_items / nullif(open_items, 0) as top_priority_open_share_exact

    from joined

),

final as (

    select
        team_key,
        month_start,
        is_partial_month,
        snapshot_at,
        items_created,
        planned_items_created,
        unplanned_items_created,
        ktlo_items_created,
        strategic_items_created,
        items_worked,
        active_hours,
        planned_active_hours,
        unplanned_active_hours,
        ktlo_active_hours,
        strategic_active_hours,
        incident_ticket_active_hours,
        incidents_started,
        incident_restore_hours,
        top_priority_items_created,
        open_items,
        open_top_priority_items,
        open_top_priority_age_p50_days,
        round(unplanned_item_share_exact, 4) as unplanned_item_share,
        round(unplanned_hours_share_exact, 4) as unplanned_hours_share,
        round(ktlo_active_hours / nullif(active_hours, 0), 4) as ktlo_hours_share,
        round(strategic_active_hours / nullif(active_hours, 0), 4) as strategic_hours_share,
        round(ktlo_active_hours / nullif(ktlo_active_hours + strategic_active_hours, 0), 4)
            as ktlo_share_of_initiative_hours,
        round(incident_ticket_active_hours / nullif(active_hours, 0), 4) as incident_ticket_hours_share,
        round(top_priority_created_share_exact, 4) as top_priority_created_share,
        round(top_priority_open_share_exact, 4) as top_priority_open_share,
        round(unplanned_hours_share_exact - lag(unplanned_hours_share_exact) over w, 4) as unplanned_hours_share_change,
        round(unplanned_item_share_exact - lag(unplanned_item_share_exact) over w, 4) as unplanned_item_share_change,
        round(top_priority_created_share_exact - lag(top_priority_created_share_exact) over w, 4)
            as top_priority_created_share_change,
        round(top_priority_open_share_exact - lag(top_priority_open_share_exact) over w, 4)
            as top_priority_open_share_change,
        open_top_priority_age_p50_days - lag(open_top_priority_age_p50_days) over w
            as open_top_priority_age_p50_days_change

    from shares
    window w as (partition by team_key order by month_start)

)

select * from final
