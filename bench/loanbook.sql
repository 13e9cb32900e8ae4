-- A Fineract-like loan book for the backup benchmarks, in schema bench:
-- clients, their loans, each loan's repayment schedule and transactions,
-- and savings transactions, with the columns and value shapes of Fineract's
-- m_client, m_loan, m_loan_repayment_schedule, m_loan_transaction and
-- m_savings_account_transaction (amounts as numeric(19,6), dates,
-- enums as small ints, names from a short list, UUID external ids). It
-- compresses as such data does (pg_dump -Fc gets about 4x), not as zeros
-- or as pure random bytes do.
--
-- Every table is an ordinary, WAL-logged one with its primary key and
-- foreign-key indexes: a physical backup must copy it and a logical
-- restore must rebuild it. Driven by bench/loanbook.sh in three steps:
--   psql -v step=schema -f bench/loanbook.sql
--   psql -v step=fill -v clients=N -v part=P -v parts=K -f bench/loanbook.sql
--        (P = 0..K-1, in parallel sessions: each fills its slice of clients)
--   psql -v step=index -f bench/loanbook.sql
\set ON_ERROR_STOP on

SELECT :'step' = 'schema' AS make_schema, :'step' = 'fill' AS fill, :'step' = 'index' AS make_index \gset
\if :make_schema
CREATE SCHEMA IF NOT EXISTS bench;
CREATE TABLE bench.m_client (
  id bigint PRIMARY KEY,
  account_no varchar(20) NOT NULL,
  external_id varchar(100),
  status_enum int NOT NULL,
  office_id bigint NOT NULL,
  firstname varchar(50),
  lastname varchar(50),
  display_name varchar(100) NOT NULL,
  mobile_no varchar(50),
  date_of_birth date,
  gender_cv_id int,
  activation_date date,
  submittedon_date date,
  created_on_utc timestamptz NOT NULL
);
CREATE TABLE bench.m_loan (
  id bigint PRIMARY KEY,
  account_no varchar(20) NOT NULL,
  external_id varchar(100),
  client_id bigint NOT NULL,
  product_id bigint NOT NULL,
  loan_status_id smallint NOT NULL,
  currency_code varchar(3) NOT NULL,
  principal_amount numeric(19,6) NOT NULL,
  nominal_interest_rate_per_period numeric(19,6),
  number_of_repayments smallint NOT NULL,
  disbursedon_date date,
  expected_maturedon_date date,
  principal_outstanding_derived numeric(19,6),
  interest_outstanding_derived numeric(19,6),
  total_outstanding_derived numeric(19,6),
  created_on_utc timestamptz NOT NULL
);
CREATE TABLE bench.m_loan_repayment_schedule (
  id bigint PRIMARY KEY,
  loan_id bigint NOT NULL,
  installment smallint NOT NULL,
  fromdate date,
  duedate date NOT NULL,
  principal_amount numeric(19,6),
  principal_completed_derived numeric(19,6),
  interest_amount numeric(19,6),
  interest_completed_derived numeric(19,6),
  fee_charges_amount numeric(19,6),
  penalty_charges_amount numeric(19,6),
  completed_derived boolean NOT NULL,
  obligations_met_on_date date,
  created_on_utc timestamptz NOT NULL
);
CREATE TABLE bench.m_loan_transaction (
  id bigint PRIMARY KEY,
  loan_id bigint NOT NULL,
  external_id varchar(100),
  transaction_type_enum smallint NOT NULL,
  transaction_date date NOT NULL,
  amount numeric(19,6) NOT NULL,
  principal_portion_derived numeric(19,6),
  interest_portion_derived numeric(19,6),
  outstanding_loan_balance_derived numeric(19,6),
  is_reversed boolean NOT NULL,
  submitted_on_date date NOT NULL,
  created_by bigint,
  created_on_utc timestamptz NOT NULL
);
CREATE TABLE bench.m_savings_account_transaction (
  id bigint PRIMARY KEY,
  savings_account_id bigint NOT NULL,
  transaction_type_enum smallint NOT NULL,
  transaction_date date NOT NULL,
  amount numeric(19,6) NOT NULL,
  running_balance_derived numeric(19,6),
  is_reversed boolean NOT NULL,
  ref_no varchar(128),
  created_by bigint,
  created_on_utc timestamptz NOT NULL
);
\endif

\if :fill
-- Clients lo..hi of this part; loan ids follow client ids (one loan each),
-- 24 installments and 30 transactions a loan, 40 savings transactions a
-- client.
SELECT (:clients::bigint * :part / :parts) + 1 AS lo, :clients::bigint * (:part + 1) / :parts AS hi \gset
INSERT INTO bench.m_client
SELECT c, lpad(c::text, 9, '0'), gen_random_uuid()::text, (ARRAY[300, 300, 300, 600, 100])[1 + c % 5], 1 + c % 40,
  f, l, f || ' ' || l, '+2547' || lpad((random() * 1e8)::bigint::text, 8, '0'),
  date '1950-01-01' + (random() * 18000)::int, 1 + c % 2,
  date '2015-01-01' + (c % 3650), date '2015-01-01' + (c % 3650),
  timestamptz '2015-01-01' + (c % 3650) * interval '1 day' + random() * interval '1 day'
FROM generate_series(:lo, :hi) c,
  LATERAL (SELECT (ARRAY['Amina','Brian','Chen','Daniel','Esther','Fatima','Grace','Hassan','Irene','James','Kamau','Lucy','Mary','Njeri','Omar','Peter','Rose','Samuel','Tariq','Wanjiru'])[1 + (c * 7) % 20] AS f,
    (ARRAY['Achieng','Banda','Chege','Diallo','Evans','Fernandes','Gitau','Hussein','Ibrahim','Juma','Kiptoo','Lopez','Mensah','Nyambura','Otieno','Patel','Qureshi','Rossi','Singh','Wang','Mwangi','Okafor','Silva','Tembo'])[1 + (c * 13) % 24] AS l) n;
INSERT INTO bench.m_loan
SELECT c, lpad(c::text, 9, '0'), gen_random_uuid()::text, c, 1 + c % 6, (ARRAY[300, 300, 600, 700])[1 + c % 4], 'KES',
  p, round((1 + random() * 3)::numeric, 2), 24, d, d + 730,
  round(p * random()::numeric, 2), round(p * 0.05 * random()::numeric, 2), round(p * 1.05 * random()::numeric, 2),
  d + random() * interval '1 day'
FROM generate_series(:lo, :hi) c,
  LATERAL (SELECT round((5000 + random() * 495000)::numeric, -2) AS p, date '2016-01-01' + (c % 3000) AS d) v;
INSERT INTO bench.m_loan_repayment_schedule
SELECT (c - 1) * 24 + i, c, i, d + (i - 1) * 30, d + i * 30,
  pr, CASE WHEN done THEN pr END, it, CASE WHEN done THEN it END,
  CASE WHEN i % 6 = 0 THEN 150 ELSE 0 END, CASE WHEN NOT done AND i % 5 = 0 THEN round((random() * 500)::numeric, 2) ELSE 0 END,
  done, CASE WHEN done THEN d + i * 30 - (random() * 5)::int END,
  timestamptz '2016-01-01' + (c % 3000) * interval '1 day'
FROM generate_series(:lo, :hi) c, generate_series(1, 24) i,
  LATERAL (SELECT date '2016-01-01' + (c % 3000) AS d, round((200 + random() * 20000)::numeric, 2) AS pr,
    round((20 + random() * 2000)::numeric, 2) AS it, i <= (c % 25) AS done) v;
INSERT INTO bench.m_loan_transaction
SELECT (c - 1) * 30 + i, c, CASE WHEN i % 3 = 0 THEN gen_random_uuid()::text END, CASE WHEN i = 1 THEN 1 WHEN i % 10 = 0 THEN 10 ELSE 2 END,
  d, a, round(a * 0.9, 2), round(a * 0.1, 2), round((random() * 500000)::numeric, 2),
  i % 97 = 0, d, 1 + c % 12, d + random() * interval '1 day'
FROM generate_series(:lo, :hi) c, generate_series(1, 30) i,
  LATERAL (SELECT date '2016-01-01' + (c % 3000) + i * 30 AS d, round((100 + random() * 25000)::numeric, 2) AS a) v;
INSERT INTO bench.m_savings_account_transaction
SELECT (c - 1) * 40 + i, c, CASE WHEN i % 4 = 0 THEN 2 ELSE 1 END, d, a,
  round((random() * 1000000)::numeric, 2), i % 113 = 0,
  CASE WHEN i % 2 = 0 THEN 'MPESA' || upper(substr(md5(c::text || i::text), 1, 10)) END, 1 + c % 12, d + random() * interval '1 day'
FROM generate_series(:lo, :hi) c, generate_series(1, 40) i,
  LATERAL (SELECT date '2015-01-01' + (c % 3650) + i * 7 AS d, round((10 + random() * 50000)::numeric, 2) AS a) v;
\endif

\if :make_index
CREATE INDEX m_loan_client_id ON bench.m_loan (client_id);
CREATE INDEX m_loan_repayment_schedule_loan_id ON bench.m_loan_repayment_schedule (loan_id);
CREATE INDEX m_loan_transaction_loan_id ON bench.m_loan_transaction (loan_id, transaction_date);
CREATE INDEX m_savings_account_transaction_account_id ON bench.m_savings_account_transaction (savings_account_id, transaction_date);
VACUUM ANALYZE;
\endif
