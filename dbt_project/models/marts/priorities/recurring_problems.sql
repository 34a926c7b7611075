-- Problems (fingerprints) with at least one occurrence in the trailing window, ranked by expected monthly impact:
-- how often they happen × what each occurrence costs. The window ends on the day of the latest occurrence in the
-- data (not today), so rebuilding old data gives the same ranking. Definitions in recurring_problems.yml.
with

occurrences as (

    select
        *,
        cast(occurred_at at time zone 'UTC' as date) as occurred_date

    from {{ ref('int_priorities__problem_occurrences') }}
    where occurred_at is not null

),

bounds as (

    select
        max(occurred_date) as window_end_date,
        max(occurred_date) - ({{ metric_var('problem_window_days') }} - 1) as window_start_date,
        -- the last 30 days of the window; the rest of it is the "before" the trend compares with
        max(occurred_date) - 29 as recent_start_date,
        {{ metric_var('problem_window_days') }} as window_days

    from occurrences

),

all_time as (

    select
        problem_key,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_seen_at,
        count(*) as occurrences_all_time

    from occurrences
    group by problem_key

),

in_window as (

    select
        occurrences.*,
        occurrences.occurred_date >= bounds.recent_start_date as is_recent

    from occurrences
    cross join bounds
    where occurrences.occurred_date between bounds.window_start_date and bounds.window_end_date

),

per_problem as (

    select
        problem_key,
        arg_max(problem_kind, occurred_at) as problem_kind,
        arg_max(fingerprint, occurred_at) as fingerprint,
        -- who and what as of the latest occurrence
        arg_max(label, occurred_at) as label,
        arg_max(team_key, occurred_at) as team_key,
        arg_max(service, occurred_at) as service,
        arg_max(business_category, occurred_at) as business_category,
        count(*) as occurrences,
        count(*) filter (where is_recent) as occurrences_last_30d,
        count(*) filter (where not is_recent) as occurrences_before_last_30d,
        count(impact_usd) as occurrences_with_impact,
        -- order-independent sums (sum_exact): a rebuild of the same data changes nothing
        {{ sum_exact('impact_hours') }} / nullif(count(impact_hours), 0) as impact_hours_mean,
        quantile_cont(impact_hours, 0.5) as impact_hours_median,
        {{ sum_exact('impact_usd') }} / nullif(count(impact_usd), 0) as impact_usd_mean,
        quantile_cont(impact_usd, 0.5) as impact_usd_median,
        {{ sum_exact('impact_usd') }} as impact_usd_in_window

    from in_window
    group by problem_key

),

scored as (

    select
        per_problem.*,
        bounds.window_start_date,
        bounds.window_end_date,
        bounds.window_days,
        per_problem.occurrences * 30.0 / bounds.window_days as frequency_per_30d,
        per_problem.occurrences_last_30d * 1.0 as recent_frequency_per_30d,
        case
            when bounds.window_days > 30
                then per_problem.occurrences_before_last_30d * 30.0 / (bounds.window_days - 30)
        end as earlier_frequency_per_30d,
        per_problem.occurrences >= {{ metric_var('problem_min_occurrences') }} as is_recurring

    from per_problem
    cross join bounds

),

with_impact as (

    select
        *,
        frequency_per_30d * impact_hours_mean as expected_monthly_impact_hours,
        frequency_per_30d * impact_usd_mean as expected_monthly_impact_usd,
        recent_frequency_per_30d - earlier_frequency_per_30d as trend_change_per_30d,
        case
            when earlier_frequency_per_30d is null then null
            when recent_frequency_per_30d >= earlier_frequency_per_30d * {{ metric_var('problem_trend_ratio') }}
                and recent_frequency_per_30d - earlier_frequency_per_30d
                    >= {{ metric_var('problem_trend_min_change_per_30d') }}
                then 'rising'
            when recent_frequency_per_30d * {{ metric_var('problem_trend_ratio') }} <= earlier_frequency_per_30d
                and earlier_frequency_per_30d - recent_frequency_per_30d
                    >= {{ metric_var('problem_trend_min_change_per_30d') }}
                then 'falling'
            else 'steady'
        end as trend

    from scored

),

ranked as (

    select
        *,
        case
            when is_recurring then row_number() over (
                partition by is_recurring
                order by expected_monthly_impact_usd desc nulls last, occurrences desc, problem_key
            )
        end as impact_rank

    from with_impact

),

final as (

    select
        ranked.problem_key,
        ranked.problem_kind,
        ranked.fingerprint,
        ranked.label,
        ranked.team_key,
        ranked.service,
        ranked.business_category,
        ranked.is_recurring,
        ranked.impact_rank,
        ranked.window_start_date,
        ranked.window_end_date,
        ranked.window_days,
        ranked.occurrences,
        ranked.occurrences_last_30d,
        ranked.occurrences_before_last_30d,
        ranked.frequency_per_30d,
        ranked.recent_frequency_per_30d,
        ranked.earlier_frequency_per_30d,
        ranked.trend_change_per_30d,
        ranked.trend,
        ranked.occurrences_with_impact,
        ranked.impact_hours_mean,
        ranked.impact_hours_median,
        ranked.impact_usd_mean,
        ranked.impact_usd_median,
        ranked.impact_usd_in_window,
        ranked.expected_monthly_impact_hours,
        ranked.expected_monthly_impact_usd,
        all_time.occurrences_all_time,
        all_time.first_seen_at,
        all_time.last_seen_at

    from ranked
    inner join all_time on ranked.problem_key = all_time.problem_key

)

select * from final
