{#- Fails for every row where the SQL boolean `expression` is not true (null counts as not true): a rule between
    columns of one row, e.g.
      data_tests:
        - holds_for_every_row:
            arguments:
              expression: "split_method <> 'fixed' or weight > 0"
-#}
{% test holds_for_every_row(model, expression) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}
