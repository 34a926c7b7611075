{#- The grain test for marts whose grain is several columns (dbt has no built-in one and hub packages cannot be
    installed): fails for every combination of `columns` that occurs more than once. Use at model level:
      data_tests:
        - unique_combination:
            arguments:
              columns: [team_key, week_start]
-#}
{% test unique_combination(model, columns) %}
select {{ columns | join(', ') }}, count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
