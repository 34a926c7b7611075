-- The metric catalogue as analysts and the alert engine read it: the seed, typed and with its threshold spelled out.
with

definitions as (
    select * from {{ ref('metric_definitions') }}
),

final as (
    select
        metric,
        description,
        why_it_exists,
        owner,
        better_direction,
        unit,
        min_sample_size,
        practical_threshold,
        threshold_type,
        case threshold_type
            when 'relative' then round(practical_threshold * 100, 1)::varchar || ' % of the baseline'
            else practical_threshold::varchar || ' ' || unit
        end as practical_threshold_label,
        coalesce(alert_scopes, '') as alert_scopes,
        list_filter(string_split(coalesce(alert_scopes, ''), '|'), s -> trim(s) <> '') as alert_scope_list,
        review_cadence,
        coalesce(active, false) as active
    from definitions
)

select * from final
