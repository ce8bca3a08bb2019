"""Generate tests/data/conversations/*.json (run once; output committed as data)."""

import json
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent / "conversations"
OUT.mkdir(parents=True, exist_ok=True)

# kind, title, slug, goal message (goal probe in {{}}), decision (decision|reason), owner, action,
# path, number, url, steps [(user request, tool kind, tool cmd, finding)], service/vocab
S = [
    dict(
        domain="ops",
        slug="payments-5xx",
        title="Payments API 5xx spike after deploy",
        goal="Figure out why payments-api started returning 502s at 14:05 UTC",
        goal_tail="On-call paged me; the error budget is burning fast.",
        decision="roll back to v2.14.3 instead of hot-patching",
        reason="the connection-pool change in v2.15.0 is the only diff touching the DB layer",
        owner="Priya",
        action="open a postmortem doc and attach the Grafana snapshot by Thursday",
        path="/srv/payments/config/pool.yaml",
        number="pool limit 40 connections per pod",
        number_probe="40 connections",
        url="https://grafana.acme.internal/d/pay-api/payments-overview",
        svc="payments-api",
        steps=[
            (
                "Pull the last 200 lines of the pod logs from the canary.",
                "log",
                "kubectl logs deploy/payments-api -n prod --tail=200",
                "The 502s line up with 'pool exhausted' warnings from pgbouncer, starting 14:04:52.",
            ),
            (
                "Show me connection counts per pod from pg_stat_activity.",
                "table",
                'psql -c "select application_name, count(*) from pg_stat_activity group by 1"',
                "Each new pod holds 38-40 connections and never releases them, the old pods held 12.",
            ),
            (
                "Get the stack trace from one of the failing requests.",
                "trace",
                "sentry-cli events show 7f3c2a91e4",
                "The trace ends in psycopg_pool.PoolTimeout after 30 s waiting for a connection.",
            ),
            (
                "Diff the pool settings between v2.14.3 and v2.15.0.",
                "diff",
                "git diff v2.14.3 v2.15.0 -- config/pool.yaml",
                "min_size went from 2 to 40, so every replica pre-opens its full pool at start-up.",
            ),
            (
                "Check whether the rollback cleared the errors.",
                "table",
                "curl -s prometheus/api/v1/query?query=rate(http_5xx[5m])",
                "5xx rate dropped from 11.2% to 0.03% within four minutes of the rollback.",
            ),
            (
                "What would a safe pool size be given pgbouncer's limit?",
                "text",
                "",
                "With 12 replicas and a pgbouncer limit of 300 we can afford at most 20 per pod with headroom.",
            ),
        ],
    ),
    dict(
        domain="data",
        slug="churn-analysis",
        title="Q3 churn analysis for the board deck",
        goal="Find out which customer segment drove the Q3 churn increase",
        goal_tail="The board deck is due Monday and finance says churn went up but not why.",
        decision="use logo churn rather than revenue churn for the headline",
        reason="two enterprise downgrades distort revenue churn and the board asked about customer counts",
        owner="Marco",
        action="re-run the cohort query against the finance warehouse snapshot from Oct 1",
        path="analytics/queries/q3_churn_by_segment.sql",
        number="4.8%",
        number_probe="4.8%",
        url="https://metabase.acme.internal/question/812-churn-by-segment",
        svc="warehouse",
        steps=[
            (
                "Run the segment breakdown query.",
                "table",
                "dbt run-operation churn_by_segment --args '{quarter: 2024Q3}'",
                "SMB self-serve churn rose from 3.1% to 6.9% while mid-market was flat.",
            ),
            (
                "Split SMB by acquisition channel.",
                "table",
                "psql -f analytics/queries/smb_by_channel.sql",
                "Customers acquired through the paid-social campaign churned at 11.4% versus 4.2% organic.",
            ),
            (
                "Check if the pricing change on July 15 lines up.",
                "table",
                "psql -f analytics/queries/price_change_window.sql",
                "Churn in the 30 days after the price change was 1.9 points higher than before, mostly on the Starter plan.",
            ),
            (
                "Any data quality issues I should worry about?",
                "log",
                "dbt test --select churn",
                "Two tests warn: 214 rows with null plan_id and duplicated cancellation events for 37 accounts.",
            ),
            (
                "Draft the chart caption for slide 7.",
                "text",
                "",
                "Caption: SMB self-serve churn nearly doubled in Q3, concentrated in paid-social signups after the July price change.",
            ),
        ],
    ),
    dict(
        domain="writing",
        slug="launch-blog-edit",
        title="Editing the v3 launch blog post",
        goal="Tighten the v3 launch post to under 900 words without losing the migration section",
        goal_tail="Legal already approved the pricing paragraph so don't touch it.",
        decision="lead with the offline mode story rather than the speed numbers",
        reason="the beta survey ranked offline mode first and speed claims need a footnote",
        owner="Hannah",
        action="get sign-off from legal on the revised benchmark footnote",
        path="content/blog/2024-10-v3-launch.md",
        number="1,460 words",
        number_probe="1,460 words",
        url="https://docs.google.com/document/d/1vX3-launch-draft/edit",
        svc="blog",
        steps=[
            (
                "Give me a word count per section.",
                "table",
                "python scripts/wordcount.py content/blog/2024-10-v3-launch.md",
                "The intro and the 'Under the hood' section are 640 words together, almost half the post.",
            ),
            (
                "Rewrite the intro in three sentences.",
                "text",
                "",
                "New intro: Version 3 works without a network. Your notes sync when you're back online. Everything else got faster too.",
            ),
            (
                "Run the style linter on the draft.",
                "log",
                "vale content/blog/2024-10-v3-launch.md",
                "Vale flags 23 issues: passive voice, 'utilize', and four sentences over 35 words.",
            ),
            (
                "Cut 'Under the hood' down to a short list.",
                "text",
                "",
                "I reduced it to five bullets covering the CRDT sync engine, the new storage layer, and startup time.",
            ),
            (
                "Check the links.",
                "log",
                "lychee content/blog/2024-10-v3-launch.md",
                "Two links 404: the old changelog URL and the migration guide anchor #upgrading-from-v2.",
            ),
        ],
    ),
    dict(
        domain="code",
        slug="pr-review-auth",
        title="Code review: session token refresh PR",
        goal="Review PR #4821 that rewrites session token refresh and tell me if it is safe to merge",
        goal_tail="It touches auth so I want a careful look at race conditions.",
        decision="require a mutex around refresh instead of the retry loop",
        reason="two tabs refreshing at once invalidate each other's refresh tokens",
        owner="Dmitri",
        action="add a regression test for concurrent refresh before re-requesting review",
        path="src/auth/refresh.ts",
        number="300 s",
        number_probe="300 s",
        url="https://github.com/acme/webapp/pull/4821",
        svc="webapp",
        steps=[
            (
                "Show me the diff of the refresh module.",
                "diff",
                "gh pr diff 4821 -- src/auth/refresh.ts",
                "The new code retries refresh up to three times but doesn't share the in-flight promise across callers.",
            ),
            (
                "Run the auth test suite on the branch.",
                "log",
                "pnpm vitest run src/auth",
                "All 84 tests pass but none of them exercise concurrent refresh.",
            ),
            (
                "What happens when the refresh endpoint returns 401?",
                "trace",
                "node scripts/repro-refresh-401.js",
                "On 401 the client clears storage and reloads, which loses unsaved drafts.",
            ),
            (
                "Check the expiry skew handling.",
                "text",
                "",
                "The skew window is hard-coded to 300 s; clocks on some kiosks drift more than that.",
            ),
            (
                "Summarise the review comments I should post.",
                "text",
                "",
                "Three blocking comments: shared in-flight promise, 401 handling that keeps drafts, configurable skew.",
            ),
        ],
    ),
    dict(
        domain="deploy",
        slug="k8s-upgrade-plan",
        title="Planning the EKS 1.29 upgrade",
        goal="Plan the EKS upgrade from 1.27 to 1.29 for the prod-eu cluster with no customer downtime",
        goal_tail="We have a change freeze starting Nov 18.",
        decision="upgrade one minor version at a time with a soak day between",
        reason="skipping 1.28 is not supported for the control plane and the ingress controller needs a bump at 1.28",
        owner="Tomasz",
        action="bump ingress-nginx to 1.9.6 in staging and report back",
        path="infra/terraform/eks/prod-eu/main.tf",
        number="42 nodes",
        number_probe="42 nodes",
        url="https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html",
        svc="prod-eu",
        steps=[
            (
                "List deprecated APIs still in use.",
                "log",
                "pluto detect-helm -o wide --target-versions k8s=v1.29.0",
                "Three charts still use flowcontrol.apiserver.k8s.io/v1beta2 which is removed in 1.29.",
            ),
            (
                "Show node groups and their AMI versions.",
                "table",
                "aws eks list-nodegroups --cluster-name prod-eu",
                "Two of the five node groups run AMIs older than 90 days and need replacing anyway.",
            ),
            (
                "Check PodDisruptionBudgets so draining doesn't stall.",
                "table",
                "kubectl get pdb -A",
                "The search-indexer PDB has minAvailable equal to replicas, so drains will hang on it.",
            ),
            (
                "Estimate how long the node rotation takes.",
                "text",
                "",
                "At 6 nodes per batch and about 9 minutes per batch, rotating all nodes takes a bit over an hour per version.",
            ),
            (
                "Write the rollback plan for the control plane step.",
                "text",
                "",
                "Control-plane upgrades can't be rolled back, so the rollback plan is a blue-green cluster for the first hour.",
            ),
        ],
    ),
    dict(
        domain="cron",
        slug="nightly-export-fail",
        title="Nightly CSV export cron failing",
        goal="Find out why the nightly partner export cron has failed three nights in a row",
        goal_tail="The partner noticed before we did, which is embarrassing.",
        decision="move the export to 02:30 UTC after the warehouse refresh",
        reason="the job reads tables mid-refresh and the refresh ends around 02:10",
        owner="Aisha",
        action="add a freshness check that fails loudly before the export starts",
        path="/etc/cron.d/partner-export",
        number="02:00 UTC",
        number_probe="17 minutes",
        url="https://airflow.acme.internal/dags/partner_export/grid",
        svc="partner-export",
        steps=[
            (
                "Show the cron log for the last three runs.",
                "log",
                "journalctl -u cron --since '3 days ago' | grep partner-export",
                "Each run exits with code 1 after 17 minutes with 'relation orders_daily does not exist'.",
            ),
            (
                "When does the warehouse refresh run?",
                "table",
                "airflow dags list-runs -d warehouse_refresh --limit 5",
                "The refresh drops and recreates orders_daily between 01:52 and 02:10 UTC.",
            ),
            (
                "Show the export script's error handling.",
                "trace",
                "python -m exports.partner --dry-run",
                "The script catches the exception, logs it and still uploads an empty file to SFTP.",
            ),
            (
                "How big is a normal export?",
                "table",
                "ls -la /var/exports/partner/",
                "A normal file is 48 MB with about 310,000 rows; the failed nights uploaded 0 bytes.",
            ),
            (
                "Draft the note to the partner.",
                "text",
                "",
                "Draft: the exports for Oct 14-16 were empty because of a scheduling conflict; complete files will be re-sent today.",
            ),
        ],
    ),
    dict(
        domain="marketing",
        slug="webinar-landing",
        title="Webinar landing page copy",
        goal="Write landing page copy for the Nov 21 webinar on cutting cloud costs for SaaS finance teams",
        goal_tail="Audience is CFOs and FP&A leads, not engineers.",
        decision="use the headline 'Your cloud bill is a finance problem'",
        reason="it scored best in the LinkedIn poll and avoids jargon",
        owner="Sofia",
        action="send the final copy to design for the hero banner by Wednesday",
        path="marketing/campaigns/2024-11-webinar/landing.md",
        number="31%",
        number_probe="31%",
        url="https://acme.com/webinars/cloud-costs-finance",
        svc="landing",
        steps=[
            (
                "Pull last webinar's conversion stats.",
                "table",
                "hubspot-cli landing-pages stats --id 92231",
                "The last page converted 18.2% of visitors; the form had seven fields.",
            ),
            (
                "Give me three subheadline options.",
                "text",
                "",
                "Options: 'See where 31% of spend goes', 'A 45-minute playbook for FP&A', 'No engineers required'.",
            ),
            (
                "Check the copy's reading level.",
                "log",
                "textstat marketing/campaigns/2024-11-webinar/landing.md",
                "Flesch-Kincaid grade 13.4; target is 9, mostly due to the speaker bios.",
            ),
            (
                "Shorten the speaker bios.",
                "text",
                "",
                "Each bio is now two lines: role, company, one credibility point.",
            ),
            (
                "Write the form microcopy.",
                "text",
                "",
                "Three fields only: work email, company, role; the button says 'Save my seat'.",
            ),
        ],
    ),
    dict(
        domain="ops",
        slug="disk-full-db",
        title="Primary database disk filling up",
        goal="Stop the disk on db-primary-02 from filling up before it hits 95%",
        goal_tail="It's at 88% and climbing about a point an hour.",
        decision="drop the stale replication slot from the decommissioned analytics replica",
        reason="it is holding 380 GB of WAL and that replica was shut down last week",
        owner="Kenji",
        action="add an alert on pg_replication_slots lag above 50 GB",
        path="/var/lib/postgresql/15/main/pg_wal",
        number="380 GB",
        number_probe="380 GB",
        url="https://runbooks.acme.internal/postgres/wal-growth",
        svc="db-primary-02",
        steps=[
            (
                "Show disk usage by directory.",
                "table",
                "du -sh /var/lib/postgresql/15/main/*",
                "pg_wal is 412 GB; the base directory is only 610 GB.",
            ),
            (
                "List replication slots and their lag.",
                "table",
                "psql -c 'select slot_name, active, pg_size_pretty(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)) from pg_replication_slots'",
                "The slot analytics_replica_1 is inactive and retains 380 GB.",
            ),
            (
                "Check the postgres log for checkpoint warnings.",
                "log",
                "tail -n 150 /var/log/postgresql/postgresql-15-main.log",
                "Checkpoints are happening every 40 s, 'too frequently', because max_wal_size is 8 GB.",
            ),
            (
                "Confirm nothing still uses that slot.",
                "log",
                "grep -r analytics_replica_1 infra/",
                "Only the decommissioned Terraform module references it, and that module is commented out.",
            ),
            (
                "After dropping it, how fast does WAL shrink?",
                "table",
                "watch -n 60 du -sh pg_wal",
                "WAL fell to 14 GB after the next two checkpoints; disk is now at 52%.",
            ),
        ],
    ),
    dict(
        domain="data",
        slug="ab-test-pricing",
        title="Reading the pricing page A/B test",
        goal="Tell me whether variant B of the pricing page actually increased paid conversions",
        goal_tail="Product wants to ship B on Friday but I'm not sure the sample is big enough.",
        decision="extend the test by two weeks before shipping",
        reason="the confidence interval still crosses zero and the weekend traffic mix is different",
        owner="Lena",
        action="set the experiment end date to Nov 29 in GrowthBook",
        path="experiments/pricing_page_b/analysis.ipynb",
        number="12,480 visitors",
        number_probe="12,480 visitors",
        url="https://growthbook.acme.internal/experiment/exp_pricing_b",
        svc="experiments",
        steps=[
            (
                "Run the conversion query by variant.",
                "table",
                "python experiments/pricing_page_b/query.py",
                "A converts at 3.42% and B at 3.71% with 6,240 visitors each.",
            ),
            (
                "Compute the confidence interval.",
                "table",
                "python -m stats.bayes_ab --variant B",
                "The 95% interval for the lift is -2.1% to +19.4%; probability B is better is 81%.",
            ),
            (
                "Check for sample ratio mismatch.",
                "log",
                "python -m stats.srm_check exp_pricing_b",
                "SRM p-value 0.41, so assignment looks fine.",
            ),
            (
                "Break it down by device.",
                "table",
                "python experiments/pricing_page_b/by_device.py",
                "The lift is all on desktop; mobile B is slightly worse at 2.1% vs 2.3%.",
            ),
            (
                "Write the summary for the product channel.",
                "text",
                "",
                "Summary: B looks promising on desktop but we don't have enough data; extending two weeks.",
            ),
        ],
    ),
    dict(
        domain="code",
        slug="flaky-test-ci",
        title="Flaky integration test in CI",
        goal="Make test_checkout_applies_coupon stop failing intermittently in CI",
        goal_tail="It fails about one run in eight and people just hit retry.",
        decision="freeze time with a fixture instead of adding sleeps",
        reason="the coupon expiry check compares against wall-clock time at midnight boundaries",
        owner="Ravi",
        action="remove the @flaky retry decorator once the fix lands",
        path="tests/integration/test_checkout.py",
        number="12.5%",
        number_probe="12.5%",
        url="https://ci.acme.internal/job/shop-backend/builds/18342",
        svc="shop-backend",
        steps=[
            (
                "Grab the failure output from the last failing build.",
                "trace",
                "ci logs 18342 --step pytest",
                "The assertion fails because the coupon is considered expired one second early.",
            ),
            (
                "How often does it fail across recent builds?",
                "table",
                "ci stats --test test_checkout_applies_coupon --last 200",
                "25 of the last 200 builds failed on this test, 12.5%.",
            ),
            (
                "Show the coupon expiry code.",
                "diff",
                "git show HEAD:shop/coupons.py | sed -n 40,80p",
                "expires_at is compared with datetime.now() without a timezone while the fixture uses UTC.",
            ),
            (
                "Run it 500 times locally with the fix.",
                "log",
                "pytest tests/integration/test_checkout.py -k coupon --count 500",
                "500 passed in 94 s with the frozen clock.",
            ),
            (
                "Anything else in the suite with the same pattern?",
                "log",
                "rg 'datetime.now\\(\\)' shop/",
                "Four more call sites use naive datetime.now(); two are in refund code.",
            ),
        ],
    ),
    dict(
        domain="deploy",
        slug="db-migration-window",
        title="Zero-downtime migration for the orders table",
        goal="Plan adding a NOT NULL currency column to the orders table without locking writes",
        goal_tail="The table has about 900 million rows and takes writes all day.",
        decision="use the expand-and-contract pattern over three deploys",
        reason="a direct ALTER with a default rewrites the table and locks it for hours on our Postgres 11 replica",
        owner="Jonas",
        action="write the backfill job with a 5,000-row batch size and a throttle",
        path="migrations/2024_10_orders_currency.sql",
        number="900 million rows",
        number_probe="900 million rows",
        url="https://wiki.acme.internal/eng/migrations/expand-contract",
        svc="orders-db",
        steps=[
            (
                "Check the table size and indexes.",
                "table",
                "psql -c '\\dt+ orders' -c '\\di+ orders*'",
                "The table is 410 GB with six indexes; the biggest index is on (customer_id, created_at).",
            ),
            (
                "Estimate the backfill time.",
                "text",
                "",
                "At 5,000 rows per batch and 40 batches a second, the backfill takes roughly 75 minutes.",
            ),
            (
                "Dry-run the migration on the staging copy.",
                "log",
                "sqitch deploy --target staging --verify",
                "The expand step took 120 ms; the backfill on staging (1/10 size) took 8 minutes.",
            ),
            (
                "What does replication lag look like during backfill?",
                "table",
                "psql -c 'select * from pg_stat_replication'",
                "Replica lag peaked at 4.2 s during the staging backfill, within our 10 s alert.",
            ),
            (
                "Write the runbook steps.",
                "text",
                "",
                "Runbook: deploy nullable column, deploy dual-write, run backfill, add NOT VALID constraint, validate, deploy contract.",
            ),
        ],
    ),
    dict(
        domain="ops",
        slug="tls-cert-expiry",
        title="TLS certificate expiring on the API gateway",
        goal="Renew the wildcard certificate on the API gateway before it expires on Oct 28",
        goal_tail="cert-manager should have done this automatically but didn't.",
        decision="switch the gateway to a DNS-01 solver",
        reason="HTTP-01 challenges can't reach the gateway since we put it behind the WAF",
        owner="Grace",
        action="add a blackbox exporter probe that alerts 21 days before expiry",
        path="k8s/gateway/certificate.yaml",
        number="9 days",
        number_probe="9 days",
        url="https://cert-manager.io/docs/configuration/acme/dns01/",
        svc="api-gateway",
        steps=[
            (
                "Show the certificate status.",
                "table",
                "kubectl describe certificate api-wildcard -n gateway",
                "The certificate has been in 'Issuing' for 21 days with a failed order.",
            ),
            (
                "Show the cert-manager logs for the order.",
                "log",
                "kubectl logs -n cert-manager deploy/cert-manager --since=24h",
                "Every challenge fails with 'wrong status code 403' from the WAF.",
            ),
            (
                "Check the Route53 permissions for DNS-01.",
                "text",
                "",
                "The cert-manager IAM role lacks route53:ChangeResourceRecordSets on the api.acme.com zone.",
            ),
            (
                "Apply the solver change and watch it.",
                "log",
                "kubectl apply -f k8s/gateway/certificate.yaml && kubectl get challenges -w",
                "The DNS-01 challenge passed in 74 s and the new cert is valid until Jan 26.",
            ),
            (
                "Check the other certificates for the same problem.",
                "table",
                "kubectl get certificates -A",
                "Two more certificates behind the WAF will hit the same issue in December.",
            ),
        ],
    ),
    dict(
        domain="writing",
        slug="incident-postmortem",
        title="Writing the search outage postmortem",
        goal="Turn my notes into a blameless postmortem for the Oct 9 search outage",
        goal_tail="Keep it factual, the exec summary must fit on one screen.",
        decision="classify it as SEV-2 rather than SEV-1",
        reason="checkout and login were unaffected and search degraded rather than failed for most users",
        owner="Oliver",
        action="schedule the review meeting with the search and platform teams for next Tuesday",
        path="docs/postmortems/2024-10-09-search-outage.md",
        number="47 minutes",
        number_probe="47 minutes",
        url="https://status.acme.com/incidents/k2m9x8",
        svc="search",
        steps=[
            (
                "Here is the raw timeline export from the incident channel.",
                "log",
                "slack-export #inc-search-1009",
                "The key moments: alert at 09:12, mitigation at 09:41, full recovery at 09:59.",
            ),
            (
                "Write the impact section.",
                "text",
                "",
                "Impact: 47 minutes of degraded search, 23% of queries returned empty results, no data loss.",
            ),
            (
                "What were the contributing factors?",
                "text",
                "",
                "An index alias swap ran before the new index finished replicating, and the alert threshold was too lax.",
            ),
            (
                "Pull the error rate graph data for the appendix.",
                "table",
                "promtool query range 'rate(search_errors[1m])'",
                "Errors peaked at 410 per second at 09:20.",
            ),
            (
                "Tighten the exec summary.",
                "text",
                "",
                "Exec summary is now four sentences: what happened, impact, cause, and what we're changing.",
            ),
        ],
    ),
    dict(
        domain="data",
        slug="sales-forecast",
        title="Sales forecast model drift",
        goal="Work out why the weekly sales forecast overshot actuals by 18% for the last four weeks",
        goal_tail="Supply chain ordered stock off these numbers.",
        decision="retrain on data excluding the Black Friday 2023 window",
        reason="those weeks dominate the seasonal component and inflate the autumn trend",
        owner="Nadia",
        action="publish a corrected forecast for weeks 44-52 to the planning sheet",
        path="forecasting/models/weekly_sales_prophet.py",
        number="18%",
        number_probe="18%",
        url="https://mlflow.acme.internal/#/experiments/27/runs/b9d41c",
        svc="forecasting",
        steps=[
            (
                "Show forecast vs actuals for the last eight weeks.",
                "table",
                "python forecasting/report.py --weeks 8",
                "The error is consistently positive from week 38 on, growing from 9% to 21%.",
            ),
            (
                "Plot the seasonal component.",
                "text",
                "",
                "The yearly seasonality peaks in week 47 and is 2.3 times higher than the 2022 fit.",
            ),
            (
                "Check the training data for outliers.",
                "table",
                "python forecasting/outliers.py --z 4",
                "Nine weeks have z-scores above 4, all in Nov 2023.",
            ),
            (
                "Retrain without those weeks and backtest.",
                "log",
                "python forecasting/train.py --exclude 2023-11-20:2023-12-03",
                "The backtest MAPE dropped from 14.8% to 6.1%.",
            ),
            (
                "What should I tell supply chain?",
                "text",
                "",
                "Tell them the forecast for weeks 44-52 will come down by 11-15% and orders for week 47 should be revisited.",
            ),
        ],
    ),
    dict(
        domain="cron",
        slug="backup-cron-silent",
        title="Backup cron silently skipping",
        goal="Verify whether the nightly S3 backups of the wiki have actually been running",
        goal_tail="Someone tried to restore a page and the latest backup was from August.",
        decision="replace the shell cron with a systemd timer",
        reason="the cron job ran under a user whose PATH lacks the aws binary and cron swallowed the error",
        owner="Bruno",
        action="add a dead-man's-switch check in Healthchecks for the backup job",
        path="/usr/local/bin/wiki-backup.sh",
        number="63 days",
        number_probe="63 days",
        url="https://healthchecks.io/projects/acme/checks/wiki-backup",
        svc="wiki",
        steps=[
            (
                "List the objects in the backup bucket.",
                "table",
                "aws s3 ls s3://acme-wiki-backups/ --recursive | tail -20",
                "The newest object is from Aug 14; nothing since then, 63 days.",
            ),
            (
                "Show the cron entry and mail spool.",
                "log",
                "crontab -l -u wiki && tail -50 /var/mail/wiki",
                "The mail spool shows 'aws: command not found' every night since the Aug 15 OS upgrade.",
            ),
            (
                "Run the script by hand as the wiki user.",
                "trace",
                "sudo -u wiki /usr/local/bin/wiki-backup.sh",
                "It fails at line 22 because aws moved to /usr/local/aws-cli/v2/current/bin.",
            ),
            (
                "Test a restore from the new backup.",
                "log",
                "./restore-test.sh --from s3://acme-wiki-backups/2024-10-16/",
                "Restore of 12,300 pages completed in 6 minutes and the checksum matched.",
            ),
            (
                "Write the systemd unit and timer.",
                "text",
                "",
                "The unit runs as wiki with an explicit PATH and OnFailure sends to the ops alias.",
            ),
        ],
    ),
    dict(
        domain="marketing",
        slug="email-nurture",
        title="Rewriting the trial nurture email sequence",
        goal="Rewrite the 5-email trial nurture sequence so more trial users connect a data source",
        goal_tail="Activation is the metric, not opens.",
        decision="cut the sequence to four emails and move the integration guide to day 1",
        reason="62% of trial users who activate do so in the first 48 hours",
        owner="Chloe",
        action="set up the new sequence in Customer.io as a draft for review",
        path="marketing/lifecycle/trial_nurture_v4.md",
        number="62%",
        number_probe="62%",
        url="https://fly.customer.io/journeys/env/112/campaigns/48",
        svc="lifecycle",
        steps=[
            (
                "Pull per-email stats for the current sequence.",
                "table",
                "cio-export campaign 48 --metrics",
                "Email 3 has the best click rate at 7.9%; emails 4 and 5 are under 2%.",
            ),
            (
                "Rewrite the day-1 email.",
                "text",
                "",
                "Subject: 'Connect your first source in 3 minutes'; body has one button and a GIF.",
            ),
            (
                "Suggest subject lines for email 2.",
                "text",
                "",
                "Options: 'Your dashboard is waiting', 'The 3 charts our users build first', 'Stuck? Reply to this email'.",
            ),
            (
                "Check the copy for spam triggers.",
                "log",
                "mail-tester --file trial_nurture_v4.html",
                "Score 9.2 of 10; one warning about the image-to-text ratio in email 2.",
            ),
            (
                "Map each email to its trigger.",
                "table",
                "",
                "Day 1 signup, day 2 if no source, day 5 if no dashboard, day 12 before trial end.",
            ),
        ],
    ),
    dict(
        domain="ops",
        slug="memory-leak-worker",
        title="Memory leak in the image worker",
        goal="Find the memory leak that makes image-worker pods get OOMKilled every six hours",
        goal_tail="It's been going on since the Pillow upgrade last week.",
        decision="pin Pillow back to 10.2.0 while we report the bug upstream",
        reason="the leak reproduces only with 10.3.0 and only for animated WebP",
        owner="Mei",
        action="file an upstream issue with the minimal reproduction script",
        path="workers/image/resize.py",
        number="2 GiB",
        number_probe="2 GiB",
        url="https://github.com/python-pillow/Pillow/issues",
        svc="image-worker",
        steps=[
            (
                "Show OOMKill events for the last day.",
                "table",
                "kubectl get events -n media --field-selector reason=OOMKilling",
                "There were 31 OOMKills across 8 pods, each at the 2 GiB limit.",
            ),
            (
                "Grab a tracemalloc snapshot diff.",
                "log",
                "python -m workers.image.debug_mem --minutes 20",
                "The top growth is in PIL/WebPImagePlugin.py at 1.1 GB after 20 minutes.",
            ),
            (
                "Reproduce with a single animated webp.",
                "trace",
                "python repro_webp_leak.py sample_anim.webp --loops 1000",
                "RSS grows by about 1.4 MB per iteration with Pillow 10.3.0 and is flat with 10.2.0.",
            ),
            (
                "Check what else changed in that release.",
                "diff",
                "git diff 3f9a2c1 HEAD -- requirements.lock",
                "Only Pillow and certifi changed in the lock file.",
            ),
            (
                "Confirm memory is flat after pinning.",
                "table",
                "kubectl top pods -n media -l app=image-worker",
                "Pods stay around 420 MiB after four hours.",
            ),
        ],
    ),
    dict(
        domain="code",
        slug="refactor-billing",
        title="Refactoring the invoice generator",
        goal="Split the 1,900-line invoice generator into modules without changing any output",
        goal_tail="Finance will notice if a single cent moves.",
        decision="snapshot-test every invoice template before moving code",
        reason="there are no unit tests on rounding and the PDFs are the contract",
        owner="Elif",
        action="collect 200 real invoices from last month as golden files",
        path="billing/invoice_generator.py",
        number="1,900 lines",
        number_probe="1,900 lines",
        url="https://github.com/acme/billing/issues/377",
        svc="billing",
        steps=[
            (
                "Show the largest functions in the file.",
                "table",
                "radon cc billing/invoice_generator.py -s -n C",
                "render_line_items has complexity 41 and 380 lines.",
            ),
            (
                "Find who calls the private helpers.",
                "log",
                "rg '_apply_tax|_round_half' billing/",
                "The helpers are called from three other modules, so they need a public home.",
            ),
            (
                "Run the golden-file tests on the first extraction.",
                "log",
                "pytest tests/golden -q",
                "197 passed, 3 failed: all three are EUR invoices with reverse charge VAT.",
            ),
            (
                "Show the diff for one failing invoice.",
                "diff",
                "diff golden/INV-2024-09-0113.txt out/INV-2024-09-0113.txt",
                "The VAT note line moved below the totals, the amounts are identical.",
            ),
            (
                "Propose the module layout.",
                "text",
                "",
                "Modules: totals.py, tax.py, rendering.py, pdf.py, with invoice_generator.py as a thin facade.",
            ),
        ],
    ),
    dict(
        domain="deploy",
        slug="cdn-migration",
        title="Moving static assets to a new CDN",
        goal="Plan the move of static assets from CloudFront to Fastly without breaking cached URLs",
        goal_tail="Marketing has a launch on Dec 3 so it must be done before then.",
        decision="serve both CDNs behind a weighted DNS record for a week",
        reason="it lets us compare error rates and roll back by changing one weight",
        owner="Arjun",
        action="write the Fastly VCL for the legacy /assets/v1/ rewrite rules",
        path="infra/cdn/fastly/main.vcl",
        number="2.7 TB",
        number_probe="2.7 TB",
        url="https://manage.fastly.com/configure/services/5xAcmeStatic",
        svc="static",
        steps=[
            (
                "Pull CloudFront traffic stats for last month.",
                "table",
                "aws cloudfront get-distribution-metrics --id E2ACME",
                "2.7 TB transferred, cache hit ratio 94.1%, 3% of requests hit /assets/v1/.",
            ),
            (
                "List the CloudFront behaviours we need to replicate.",
                "table",
                "aws cloudfront get-distribution-config --id E2ACME",
                "There are 7 behaviours including two Lambda@Edge functions for image resizing.",
            ),
            (
                "Test the Fastly config with a synthetic crawl.",
                "log",
                "./crawl.sh --host static-fastly.acme.com --urls top10k.txt",
                "9,962 of 10,000 URLs match; 38 differ in Content-Type for .webmanifest files.",
            ),
            (
                "Cost comparison?",
                "table",
                "",
                "Fastly comes to about $2,150 a month versus $3,480 on CloudFront.",
            ),
            (
                "Outline the cut-over checklist.",
                "text",
                "",
                "Checklist: TTL down to 60 s, 10% weight, watch errors for 48 hours, 50%, 100%, decommission.",
            ),
        ],
    ),
    dict(
        domain="cron",
        slug="report-cron-duplicates",
        title="Weekly report cron sending duplicates",
        goal="Stop the weekly revenue report from being emailed twice every Monday",
        goal_tail="Execs are asking which copy is correct.",
        decision="run the scheduler on a single leader-elected replica",
        reason="both replicas of the reports service run the in-process scheduler since we scaled to two",
        owner="Hugo",
        action="add an idempotency key per report run in the send_report task",
        path="reports/scheduler.py",
        number="2 replicas",
        number_probe="2 replicas",
        url="https://github.com/acme/reports/pull/212",
        svc="reports",
        steps=[
            (
                "Show the send log from Monday.",
                "log",
                "kubectl logs -l app=reports --since=72h | grep send_report",
                "Two sends at 07:00:00 and 07:00:01 from different pods.",
            ),
            (
                "Check the deployment history.",
                "table",
                "kubectl rollout history deploy/reports",
                "Replicas went from 1 to 2 in revision 14 on Sep 30, matching the first duplicate.",
            ),
            (
                "How does the scheduler start?",
                "diff",
                "git show HEAD:reports/app.py | sed -n 1,40p",
                "APScheduler starts in the app factory with no lock.",
            ),
            (
                "Test the leader election locally with two replicas.",
                "log",
                "docker compose up --scale reports=2",
                "Only one replica logs 'acquired scheduler lease'; the other stays standby.",
            ),
            (
                "Draft the note to the exec list.",
                "text",
                "",
                "Draft: the duplicate emails were identical; from next Monday you'll get one copy.",
            ),
        ],
    ),
    dict(
        domain="writing",
        slug="api-docs-rewrite",
        title="Rewriting the webhooks API docs",
        goal="Rewrite the webhooks documentation so a new integrator can verify signatures in under ten minutes",
        goal_tail="Support gets about 30 tickets a month about signature mismatches.",
        decision="show signature verification in Python, Node and Go only",
        reason="those three cover 88% of webhook consumers by user-agent",
        owner="Ines",
        action="ask DevRel to test the new guide with two partners",
        path="docs/api/webhooks/verifying-signatures.md",
        number="30 tickets",
        number_probe="30 tickets",
        url="https://developers.acme.com/webhooks/signatures",
        svc="docs",
        steps=[
            (
                "Pull the top support ticket phrases about webhooks.",
                "table",
                "zendesk-export --tag webhooks --since 90d | topics",
                "The top issue is verifying against the parsed JSON instead of the raw body.",
            ),
            (
                "Draft the Python example.",
                "text",
                "",
                "The example reads request.get_data(), computes HMAC-SHA256 and uses hmac.compare_digest.",
            ),
            (
                "Check the existing page for broken examples.",
                "log",
                "doctest-md docs/api/webhooks/*.md",
                "Two of four examples fail: the Ruby one uses a removed header name.",
            ),
            (
                "Add a troubleshooting section.",
                "text",
                "",
                "Troubleshooting lists the three common mistakes: parsed body, wrong secret per endpoint, clock skew over 5 minutes.",
            ),
            (
                "User-agent split for webhook consumers?",
                "table",
                "bq query 'select ua_family, count(*) from webhooks.deliveries'",
                "Python 41%, Node 33%, Go 14%, Ruby 6%, other 6%.",
            ),
        ],
    ),
    dict(
        domain="data",
        slug="etl-row-mismatch",
        title="Row count mismatch in the CRM sync",
        goal="Explain why the CRM sync table has 3,412 fewer accounts than Salesforce",
        goal_tail="Sales ops uses this table for territory planning next week.",
        decision="switch the sync from the REST API to the Bulk API 2.0",
        reason="the REST cursor silently skips records updated during pagination",
        owner="Tariq",
        action="backfill the missing accounts with a one-off Bulk API export",
        path="etl/connectors/salesforce/accounts.py",
        number="3,412 fewer accounts",
        number_probe="3,412 fewer accounts",
        url="https://developer.salesforce.com/docs/atlas.en-us.api_asynch.meta/api_asynch/bulk_api_2_0.htm",
        svc="crm-sync",
        steps=[
            (
                "Compare IDs between the two sources.",
                "table",
                "python etl/tools/diff_ids.py --object Account",
                "All 3,412 missing accounts were modified during the nightly sync window.",
            ),
            (
                "Show the connector's pagination code.",
                "diff",
                "git show HEAD:etl/connectors/salesforce/accounts.py | sed -n 60,110p",
                "It orders by LastModifiedDate and pages with OFFSET, which shifts under concurrent updates.",
            ),
            (
                "Show the sync logs from last night.",
                "log",
                "etl logs crm-sync --date 2024-10-15",
                "The job fetched 412 pages of 200 records with no errors.",
            ),
            (
                "Test the Bulk API export on a sandbox.",
                "log",
                "python etl/tools/bulk_export.py --sandbox --object Account",
                "The sandbox export returned 51,880 rows, matching the SOQL count exactly.",
            ),
            (
                "What should sales ops do until it's fixed?",
                "text",
                "",
                "Use the Salesforce report for territory counts until the backfill lands tomorrow.",
            ),
        ],
    ),
    dict(
        domain="ops",
        slug="dns-outage",
        title="Internal DNS resolution failures",
        goal="Find out why services intermittently fail to resolve internal hostnames in us-east-1",
        goal_tail="Errors come in bursts of a few seconds, mostly from the Java services.",
        decision="enable NodeLocal DNSCache on all node groups",
        reason="conntrack races on UDP to kube-dns cause the 5 s timeouts and the local cache avoids them",
        owner="Sven",
        action="roll out NodeLocal DNSCache to the staging cluster first and watch for a week",
        path="k8s/kube-system/nodelocaldns.yaml",
        number="5 s",
        number_probe="5 s",
        url="https://kubernetes.io/docs/tasks/administer-cluster/nodelocaldns/",
        svc="coredns",
        steps=[
            (
                "Show CoreDNS error logs.",
                "log",
                "kubectl logs -n kube-system -l k8s-app=kube-dns --since=6h",
                "CoreDNS itself reports no errors; the timeouts happen before queries reach it.",
            ),
            (
                "Check conntrack insert failures on a node.",
                "table",
                "conntrack -S",
                "insert_failed is 18,233 on the busiest node and climbing.",
            ),
            (
                "Show a failing request's stack trace.",
                "trace",
                "kubectl logs deploy/ledger --since=1h | grep -A30 UnknownHost",
                "java.net.UnknownHostException after exactly 5 s, the resolver timeout.",
            ),
            (
                "How many nodes and what's the DNS QPS?",
                "table",
                "kubectl get nodes | wc -l; coredns metrics",
                "64 nodes and about 9,000 DNS queries per second at peak.",
            ),
            (
                "Draft the change request.",
                "text",
                "",
                "Change request: deploy the DaemonSet with the link-local IP 169.254.20.10 and update kubelet clusterDNS.",
            ),
        ],
    ),
    dict(
        domain="code",
        slug="perf-regression-api",
        title="Search API latency regression",
        goal="Find what made the /v2/search endpoint p95 go from 180 ms to 640 ms after Tuesday's release",
        goal_tail="The mobile app times out at 1 s so we're close to the edge.",
        decision="revert the ORM eager-loading change and add a dedicated query",
        reason="the eager load pulls 40 related rows per result that the endpoint never returns",
        owner="Camille",
        action="add a query-count assertion to the search endpoint test",
        path="api/search/views.py",
        number="640 ms",
        number_probe="640 ms",
        url="https://github.com/acme/api/commit/9c1e7b2",
        svc="search-api",
        steps=[
            (
                "Show p95 per release.",
                "table",
                "promtool query 'histogram_quantile(0.95, ...)' by release",
                "p95 jumped from 180 ms on r512 to 640 ms on r513.",
            ),
            (
                "Profile one slow request.",
                "trace",
                "py-spy dump --pid $(pgrep -f gunicorn | head -1)",
                "Most time is in sqlalchemy loading Tag rows for each result.",
            ),
            (
                "Count queries per request.",
                "log",
                "pytest tests/api/test_search.py --sqlcount",
                "Queries per request went from 3 to 43.",
            ),
            (
                "Show the commit that changed eager loading.",
                "diff",
                "git show 9c1e7b2 -- api/search/views.py",
                "The commit added selectinload(Result.tags) for the admin page and it leaked into search.",
            ),
            (
                "Benchmark the fix.",
                "table",
                "k6 run bench/search.js",
                "p95 back to 175 ms at 400 rps.",
            ),
        ],
    ),
    dict(
        domain="marketing",
        slug="product-hunt",
        title="Product Hunt launch plan",
        goal="Prepare the Product Hunt launch for the CLI tool on Nov 12",
        goal_tail="We have no hunter lined up yet and the tagline isn't final.",
        decision="launch at 00:01 PT on a Tuesday",
        reason="Tuesday launches in our category got the most upvotes in the last quarter and we need the full 24 hours",
        owner="Yusuf",
        action="line up ten beta users to post genuine first comments",
        path="marketing/launches/producthunt/plan.md",
        number="260 characters",
        number_probe="260 characters",
        url="https://www.producthunt.com/posts/new",
        svc="launch",
        steps=[
            (
                "Draft five taglines under 60 characters.",
                "text",
                "",
                "Best two: 'Your terminal, now with memory' and 'Shell history you can actually search'.",
            ),
            (
                "Pull data on comparable launches.",
                "table",
                "python scripts/ph_scrape_summary.py --topic developer-tools",
                "Top launches averaged 640 upvotes; Tuesday median was 410.",
            ),
            (
                "Write the maker's first comment.",
                "text",
                "",
                "The comment tells the origin story in four short paragraphs and asks for feedback on the sync feature.",
            ),
            (
                "Check the gallery image specs.",
                "text",
                "",
                "Images are 1270x760; the first one must show the product in use, not a logo.",
            ),
            (
                "List the launch day schedule.",
                "table",
                "",
                "00:01 publish, 07:00 email list, 09:00 Twitter thread, 12:00 HN Show post, 18:00 thank-you tweet.",
            ),
        ],
    ),
    dict(
        domain="ops",
        slug="queue-backlog",
        title="RabbitMQ backlog on the notifications queue",
        goal="Clear the 1.2 million message backlog on the notifications queue without dropping messages",
        goal_tail="Users are getting password reset emails 40 minutes late.",
        decision="split password resets onto their own priority queue",
        reason="resets are time-sensitive and were stuck behind a marketing blast",
        owner="Alex",
        action="rate-limit marketing blasts to 500 messages per second in the producer",
        path="services/notify/queues.py",
        number="1.2 million messages",
        number_probe="1.2 million",
        url="https://rabbitmq.acme.internal/#/queues/%2F/notifications",
        svc="notify",
        steps=[
            (
                "Show queue depth and consumer counts.",
                "table",
                "rabbitmqctl list_queues name messages consumers",
                "notifications has 1,204,331 messages and 6 consumers.",
            ),
            (
                "Show consumer logs.",
                "log",
                "kubectl logs -l app=notify-worker --since=30m",
                "Workers process about 180 messages per second each, mostly marketing.",
            ),
            (
                "Where did the burst come from?",
                "table",
                "rabbitmq-trace --queue notifications --group-by routing_key",
                "A campaign enqueued 1.1 million messages at 08:00 in one go.",
            ),
            (
                "Scale consumers and estimate drain time.",
                "text",
                "",
                "With 20 consumers at 180/s the queue drains in about 5.5 minutes.",
            ),
            (
                "Check for poison messages.",
                "log",
                "rabbitmqctl list_queues name messages | grep dlq",
                "The dead-letter queue has 212 messages, all with a malformed locale field.",
            ),
        ],
    ),
    dict(
        domain="data",
        slug="survey-analysis",
        title="Customer survey open-text analysis",
        goal="Summarise the 2,300 open-text answers from the annual customer survey into themes",
        goal_tail="I need the top themes with counts and a few representative quotes.",
        decision="use a fixed codebook of 12 themes",
        reason="last year's free-form clustering couldn't be compared year over year",
        owner="Beatriz",
        action="have a second person code a random sample of 200 answers to check agreement",
        path="research/survey-2024/open_text.csv",
        number="2,300 answers",
        number_probe="2,300 answers",
        url="https://acme.sharepoint.com/sites/research/survey-2024",
        svc="research",
        steps=[
            (
                "Show the answer length distribution.",
                "table",
                "python research/survey-2024/describe.py",
                "Median answer is 31 words; 14% are a single word.",
            ),
            (
                "Code the first pass with the codebook.",
                "table",
                "python research/survey-2024/code.py --codebook v2",
                "Top themes: reporting speed 412, pricing 355, onboarding 290, integrations 248.",
            ),
            (
                "Pull three quotes for reporting speed.",
                "text",
                "",
                "Quotes include 'Monthly close takes a day just waiting for reports to load'.",
            ),
            (
                "Compare with last year.",
                "table",
                "python research/survey-2024/yoy.py",
                "Pricing mentions rose from 9% to 15% of answers.",
            ),
            (
                "Check inter-rater agreement.",
                "log",
                "python research/survey-2024/kappa.py",
                "Cohen's kappa is 0.78 on the 200-answer sample.",
            ),
        ],
    ),
    dict(
        domain="deploy",
        slug="feature-flag-rollout",
        title="Rolling out the new checkout behind a flag",
        goal="Plan the staged rollout of the new checkout flow to 100% of users",
        goal_tail="Last time we shipped checkout changes we lost a day of orders in Brazil.",
        decision="roll out by country starting with the Netherlands at 5%",
        reason="NL has low volume, all payment methods we support, and a support team in the same timezone",
        owner="Fatima",
        action="define the automatic kill-switch thresholds in LaunchDarkly",
        path="checkout/flags/new_checkout.json",
        number="5%",
        number_probe="5%",
        url="https://app.launchdarkly.com/acme/production/features/new-checkout",
        svc="checkout",
        steps=[
            (
                "Show conversion by payment method for the last 30 days.",
                "table",
                "bq query -f sql/conversion_by_method.sql",
                "Boleto and Pix in Brazil have 3 times the failure rate of cards.",
            ),
            (
                "What guardrail metrics should we watch?",
                "text",
                "",
                "Payment success rate, checkout p95 latency, and support tickets tagged checkout.",
            ),
            (
                "Run the e2e suite against the flag-on variant.",
                "log",
                "playwright test --project=checkout-new",
                "112 passed, 2 skipped (Klarna sandbox is down).",
            ),
            (
                "Draft the rollout schedule.",
                "table",
                "",
                "NL 5% day 1, NL 100% day 3, DE and FR 25% day 5, all EU day 8, BR last at day 12.",
            ),
            (
                "What are the rollback steps?",
                "text",
                "",
                "Turning the flag off reverts new sessions immediately; in-flight carts finish on the new flow.",
            ),
        ],
    ),
    dict(
        domain="writing",
        slug="grant-proposal",
        title="Editing the research grant proposal",
        goal="Cut the grant proposal's project description to the 5,000-character limit",
        goal_tail="The portal rejects anything longer and the deadline is Friday 17:00 CET.",
        decision="drop the second pilot study from the description",
        reason="it is already covered in the appendix and reviewers scored feasibility, not breadth",
        owner="Julia",
        action="move the pilot study details into Appendix B and renumber the figures",
        path="grants/2024-erc/project_description.docx",
        number="5,000 characters",
        number_probe="5,000 characters",
        url="https://ec.europa.eu/info/funding-tenders/opportunities/portal",
        svc="grant",
        steps=[
            (
                "Count characters per section.",
                "table",
                "python tools/charcount.py grants/2024-erc/project_description.docx",
                "Total is 7,340 characters; methodology alone is 2,910.",
            ),
            (
                "Tighten the objectives paragraph.",
                "text",
                "",
                "Objectives now read as three numbered aims of one sentence each.",
            ),
            (
                "Find repeated phrases.",
                "log",
                "python tools/ngram_repeats.py --n 4",
                "'in the context of' appears nine times and 'it is important to note' five times.",
            ),
            (
                "Rewrite the impact statement.",
                "text",
                "",
                "The impact statement names the two user groups and one measurable outcome.",
            ),
            (
                "Final count?",
                "table",
                "python tools/charcount.py grants/2024-erc/project_description.docx",
                "4,962 characters, under the limit.",
            ),
        ],
    ),
    dict(
        domain="code",
        slug="dependency-cve",
        title="Triage of a critical CVE in a dependency",
        goal="Decide whether CVE-2024-45337 in golang.org/x/crypto affects our SSH bastion service",
        goal_tail="Security wants an answer by end of day.",
        decision="upgrade x/crypto to v0.31.0 and redeploy today",
        reason="the bastion uses PublicKeyCallback in exactly the pattern the advisory describes",
        owner="Lukas",
        action="audit the other Go services for PublicKeyCallback usage",
        path="cmd/bastion/auth.go",
        number="CVSS 9.1",
        number_probe="9.1",
        url="https://pkg.go.dev/vuln/GO-2024-3321",
        svc="bastion",
        steps=[
            (
                "Run govulncheck on the repo.",
                "log",
                "govulncheck ./...",
                "govulncheck reports GO-2024-3321 as reachable through cmd/bastion/auth.go.",
            ),
            (
                "Show how we use PublicKeyCallback.",
                "diff",
                "git show HEAD:cmd/bastion/auth.go | sed -n 30,90p",
                "We record the first offered key and authorize based on it later, which is the vulnerable pattern.",
            ),
            (
                "Build and test with the patched version.",
                "log",
                "go get golang.org/x/crypto@v0.31.0 && go test ./...",
                "All 57 tests pass with the patched module.",
            ),
            (
                "Which other services import x/crypto/ssh?",
                "table",
                "rg -l 'x/crypto/ssh' --type go",
                "Only bastion and the git-mirror service import it.",
            ),
            (
                "Draft the note for security.",
                "text",
                "",
                "Note: affected, patched build deployed at 16:40, no signs of exploitation in auth logs.",
            ),
        ],
    ),
    dict(
        domain="cron",
        slug="cleanup-cron-deleted",
        title="Cleanup cron deleted live uploads",
        goal="Find out how the temp-file cleanup cron deleted 1,140 live user uploads last night",
        goal_tail="We need to restore them and make sure it can't happen again.",
        decision="restore from the S3 versioned bucket rather than the nightly backup",
        reason="versioning keeps the exact objects and the backup is 20 hours older",
        owner="Nora",
        action="change the cleanup job to use an allow-list prefix and a dry-run flag",
        path="ops/cron/cleanup_tmp.py",
        number="1,140 uploads",
        number_probe="1,140",
        url="https://s3.console.aws.amazon.com/s3/buckets/acme-user-uploads",
        svc="uploads",
        steps=[
            (
                "Show the cleanup cron log.",
                "log",
                "grep cleanup_tmp /var/log/cron.log | tail -40",
                "The job listed 'uploads/' instead of 'uploads/tmp/' after a config refactor.",
            ),
            (
                "Show the config change.",
                "diff",
                "git log -p -1 -- ops/cron/config.yaml",
                "The prefix key was renamed and the default fell back to 'uploads/'.",
            ),
            (
                "List the deleted object versions.",
                "table",
                "aws s3api list-object-versions --bucket acme-user-uploads --prefix uploads/",
                "1,140 objects have delete markers from 03:00 to 03:04.",
            ),
            (
                "Restore them.",
                "log",
                "python ops/tools/undelete.py --bucket acme-user-uploads --since 03:00",
                "Removed 1,140 delete markers; spot checks of 20 files return 200.",
            ),
            (
                "Draft the customer notice.",
                "text",
                "",
                "Notice: some uploads were unavailable for about 6 hours; all have been restored.",
            ),
        ],
    ),
]

DOMAIN_REASONING = {
    "ops": [
        "That points at a resource limit rather than a code bug.",
        "I also checked the node-level metrics and they look normal, so this is contained to the service.",
        "The timing lines up with the change window, which strengthens the hypothesis.",
        "There is some noise from health checks in the output, which I ignored.",
        "If this holds we should see the same pattern on every replica, not just one.",
        "None of the other services on the same nodes show the symptom.",
    ],
    "data": [
        "The sample sizes are large enough that this isn't noise.",
        "I excluded internal test accounts, which were about 1% of rows.",
        "The definitions match the finance dashboard, so the numbers should reconcile.",
        "I'd be careful presenting this as causal; it's a correlation in observational data.",
        "The same query on last quarter gives the expected baseline, which is a good sanity check.",
        "Missing values are concentrated in older records and don't change the conclusion.",
    ],
    "writing": [
        "The voice is more direct now and the paragraphs are shorter.",
        "I kept the terminology consistent with the style guide.",
        "Readers skim, so the key point now comes first in each section.",
        "I removed hedges like 'quite' and 'somewhat' where they added nothing.",
        "The structure now follows the order the reader needs the information.",
        "Nothing factual changed; I only reworded and reordered.",
    ],
    "code": [
        "The change is small but it touches a hot path, so it deserves a test.",
        "I read through the callers and none of them depend on the old behaviour.",
        "Type checks pass and the linter is clean on the branch.",
        "This is the kind of bug that only shows up under concurrency or unusual timing.",
        "The existing tests cover the happy path well but not the edge cases.",
        "I'd keep the fix minimal and do the broader cleanup in a separate PR.",
    ],
    "deploy": [
        "Each step can be rolled back independently, which keeps the blast radius small.",
        "We should do this during low traffic, which for us is Tuesday morning UTC.",
        "Staging matches production closely enough for this test to be meaningful.",
        "I'd communicate the window in the status page a day ahead.",
        "The monitoring we have already covers the metrics that matter here.",
        "The riskiest part is the first step, after that it is routine.",
    ],
    "cron": [
        "The job has no alerting on failure, which is why nobody noticed.",
        "Cron runs with a minimal environment, which explains the difference from manual runs.",
        "The schedule overlaps with another job that touches the same data.",
        "Exit codes were non-zero but nothing consumed them.",
        "Re-running by hand works, so the logic itself is fine.",
        "The logs rotate weekly, so older evidence is gone.",
    ],
    "marketing": [
        "This keeps the audience's language instead of ours.",
        "The call to action is now the same on every section of the page.",
        "Shorter copy tested better on our last two campaigns.",
        "I avoided claims we can't back up with a number.",
        "The tone matches the brand guide: plain, confident, a little dry.",
        "Mobile readers see only the first two lines, so those carry the message.",
    ],
}

ACKS = ["ok", "sounds good", "great", "👍", "ok, thanks", "perfect", "got it", "cool"]

WORDS = {
    "ops": ["INFO", "WARN", "ERROR"],
    "cron": ["INFO", "WARN", "ERROR"],
}


def rng_for(slug):
    return random.Random(sum(map(ord, slug)) * 7919)


def tool_output(kind, sc, step_i, r, long):
    svc = sc["svc"]
    n = r.randint(28, 45) if long else r.randint(14, 22)
    lines = []
    if kind == "log":
        msgs = [
            f"request handled route=/{svc}/api status=200 dur={{}}ms",
            "health check ok",
            f"{svc} worker heartbeat seq={{}}",
            "retrying after transient error attempt={}",
            "cache miss key=user:{}",
            "connection acquired in {}ms",
            "job step completed rows={}",
            "slow query detected dur={}ms",
            "upstream responded status=502 after {}ms",
            "config reloaded version={}",
        ]
        for _ in range(n):
            lvl = r.choices(["INFO", "WARN", "ERROR", "DEBUG"], [6, 2, 1, 2])[0]
            m = r.choice(msgs).format(r.randint(1, 9999))
            lines.append(
                f"2024-10-{15 + step_i % 3:02d}T{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}Z {lvl:5} [{svc}-{r.choice('abcdef')}{r.randint(1, 9)}] {m}"
            )
        lang = "log"
    elif kind == "table":
        cols = r.choice(
            [
                ["name", "count", "share"],
                ["segment", "before", "after", "delta"],
                ["pod", "cpu", "mem", "restarts"],
                ["week", "forecast", "actual", "error"],
                ["key", "value", "updated"],
            ]
        )
        lines.append(" | ".join(cols))
        lines.append("-+-".join("-" * len(c) for c in cols))
        for i in range(n):
            row = [
                f"{svc}-{r.choice(['alpha', 'beta', 'gamma', 'delta', 'eu', 'us', 'ap'])}-{i}"
            ] + [
                str(r.randint(0, 5000)) if j % 2 else f"{r.random() * 100:.1f}"
                for j in range(len(cols) - 1)
            ]
            lines.append(" | ".join(row))
        lines.append(f"({n} rows)")
        lang = "text"
    elif kind == "trace":
        lines.append("Traceback (most recent call last):")
        mods = [
            f"{svc.replace('-', '_')}/handlers.py",
            f"{svc.replace('-', '_')}/service.py",
            "lib/retry.py",
            "lib/db/session.py",
            "site-packages/urllib3/connectionpool.py",
            "site-packages/psycopg_pool/pool.py",
        ]
        for i in range(max(6, n // 2)):
            mod = mods[i % len(mods)]
            lines.append(
                f'  File "/app/{mod}", line {r.randint(20, 900)}, in {r.choice(["handle", "run", "_execute", "acquire", "send", "wrapper", "process"])}'
            )
            lines.append(
                f"    {r.choice(['return fn(*args, **kwargs)', 'conn = self._pool.getconn()', 'result = self.session.execute(stmt)', 'raise exc', 'resp = self._make_request(conn, method, url)'])}"
            )
        lines.append(
            r.choice(
                [
                    "TimeoutError: operation timed out",
                    "RuntimeError: unexpected state",
                    "ConnectionError: connection reset by peer",
                    "ValueError: invalid literal for int()",
                ]
            )
        )
        lang = "python"
    elif kind == "diff":
        lines.append(f"--- a/{sc['path'].lstrip('/')}")
        lines.append(f"+++ b/{sc['path'].lstrip('/')}")
        for i in range(n):
            if i % 9 == 0:
                lines.append(
                    f"@@ -{r.randint(1, 400)},{r.randint(5, 20)} +{r.randint(1, 400)},{r.randint(5, 20)} @@"
                )
            sign = r.choice([" ", " ", "+", "-"])
            lines.append(
                f"{sign}    {r.choice(['value', 'limit', 'timeout', 'retries', 'enabled', 'size', 'mode'])}_{i} = {r.randint(0, 500)}"
            )
        lang = "diff"
    else:
        return None
    return lang, lines


def build(sc, idx):
    r = rng_for(sc["slug"])
    long = idx % 3 == 0  # every third conversation is long
    reasoning = DOMAIN_REASONING[sc["domain"]]
    M = []

    def add(role, content):
        M.append({"role": role, "content": content})

    add(
        "user",
        f"{sc['goal']}. {sc['goal_tail']} The relevant file is {sc['path']} and the dashboard is {sc['url']}. For context: {sc['number']}.",
    )
    add(
        "assistant",
        f"I'll start by looking at {sc['path']} and the current state of {sc['svc']}, then narrow it down. First I'll gather evidence before changing anything.",
    )
    steps = list(sc["steps"])

    # first step before the decision
    def do_step(st, si, ack):
        req, kind, cmd, finding = st
        add("user", req)
        out = tool_output(kind, sc, si, r, long)
        if out:
            lang, lines = out
            add(
                "assistant",
                f"Ran `{cmd}`:\n```{lang}\n" + "\n".join(lines) + "\n```"
                if cmd
                else f"Output:\n```{lang}\n" + "\n".join(lines) + "\n```",
            )
        extra = r.sample(reasoning, 3 if long else 2)
        add(
            "assistant",
            f"{finding} "
            + " ".join(extra)
            + (
                " I'd look at the next piece of evidence before concluding anything."
                if si % 2
                else ""
            ),
        )
        if ack:
            add("user", r.choice(ACKS))

    do_step(steps[0], 0, False)
    add("user", "thanks!")
    add("assistant", f"Given that, my recommendation is to {sc['decision']}. Do you agree?")
    add("user", f"Yes. We decided to {sc['decision']} because {sc['reason']}.")
    add(
        "assistant",
        f"Action item: {sc['owner']} will {sc['action']}. I'll note it in the summary at the end.",
    )
    for si, st in enumerate(steps[1:], start=1):
        do_step(st, si, si % 2 == 0)
    if long:
        # a second round of investigation: re-checks with long outputs
        for si, st in enumerate(steps[1:], start=len(steps)):
            req, kind, cmd, finding = st
            kind2 = kind if kind != "text" else "log"
            do_step(
                (
                    f"Re-run that check now that the change is in: {req[0].lower() + req[1:]}",
                    kind2,
                    cmd or f"./check.sh {sc['svc']}",
                    f"Re-checked after the change: {finding[0].lower() + finding[1:]}",
                ),
                si,
                si % 3 == 0,
            )
    add("user", "Can you give me a short wrap-up of where we are?")
    add(
        "assistant",
        f"Where we are: we went with the decision to {sc['decision']}. {sc['owner']} owns the follow-up. The remaining checks are listed above.",
    )
    add("user", "Anything I should watch over the next day?")
    add(
        "assistant",
        "Watch the main metric on the dashboard and the error logs; if either moves the wrong way, ping me and we'll revisit.",
    )
    add("user", "ok")
    add("assistant", "I'll be here if anything changes.")
    probes = {
        "goal": sc["goal"],
        "decision": sc["decision"],
        "decision_reason": sc["reason"],
        "action_item": f"{sc['owner']} will {sc['action']}",
        "owner": sc["owner"],
        "path": sc["path"],
        "number": sc["number_probe"],
        "url": sc["url"],
    }
    text = "\n".join(m["content"] for m in M[: len(M) // 3 + 1])
    for k, v in probes.items():
        assert v in text, (sc["slug"], k, v)
    return {"title": sc["title"], "messages": M, "probes": probes}


for i, sc in enumerate(S):
    conv = build(sc, i)
    (OUT / f"{i + 1:02d}_{sc['slug']}.json").write_text(
        json.dumps(conv, indent=1, ensure_ascii=False) + "\n"
    )
    print(i + 1, sc["slug"], len(conv["messages"]))
print(len(S))
