"""Baseline: the PostGIS schema as SafeGround 0.1 created it, frozen as literal DDL.

Frozen on purpose: the live model may gain fields later, and each such change
needs its own revision; the baseline must keep describing stores made before it.
``{schema}`` stands for the quoted store schema.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

from safeground.storage.migrations import store_schema

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# fmt: off
BASELINE_DDL = [
    'CREATE TABLE IF NOT EXISTS {schema}."safeground_meta" (key TEXT PRIMARY KEY, value TEXT)',
    'CREATE TABLE IF NOT EXISTS {schema}."activities" (fid BIGSERIAL PRIMARY KEY, geom geometry(MULTIPOLYGON, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "activity_type" TEXT NOT NULL, "organisation_uid" TEXT NOT NULL, "method" TEXT NOT NULL, "start_date" DATE NOT NULL, "end_date" DATE, "hazard_area_uid" TEXT, "area_cancelled_m2" DOUBLE PRECISION, "area_reduced_m2" DOUBLE PRECISION, "area_cleared_m2" DOUBLE PRECISION, "items_found" BIGINT, "found_item_uids" TEXT)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "activities_uid" ON {schema}."activities" (uid)',
    'CREATE INDEX IF NOT EXISTS "activities_geom" ON {schema}."activities" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."activities_history" (fid BIGSERIAL PRIMARY KEY, geom geometry(MULTIPOLYGON, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "activity_type" TEXT NOT NULL, "organisation_uid" TEXT NOT NULL, "method" TEXT NOT NULL, "start_date" DATE NOT NULL, "end_date" DATE, "hazard_area_uid" TEXT, "area_cancelled_m2" DOUBLE PRECISION, "area_reduced_m2" DOUBLE PRECISION, "area_cleared_m2" DOUBLE PRECISION, "items_found" BIGINT, "found_item_uids" TEXT, superseded_at TIMESTAMPTZ NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "activities_history_uid" ON {schema}."activities_history" (uid, version)',
    'CREATE INDEX IF NOT EXISTS "activities_history_geom" ON {schema}."activities_history" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."accidents" (fid BIGSERIAL PRIMARY KEY, geom geometry(POINT, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "accident_date" DATE NOT NULL, "device_type" TEXT NOT NULL, "place_description" TEXT, "settlement" TEXT, "admin_area_uid" TEXT, "hazard_area_uid" TEXT)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "accidents_uid" ON {schema}."accidents" (uid)',
    'CREATE INDEX IF NOT EXISTS "accidents_geom" ON {schema}."accidents" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."accidents_history" (fid BIGSERIAL PRIMARY KEY, geom geometry(POINT, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "accident_date" DATE NOT NULL, "device_type" TEXT NOT NULL, "place_description" TEXT, "settlement" TEXT, "admin_area_uid" TEXT, "hazard_area_uid" TEXT, superseded_at TIMESTAMPTZ NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "accidents_history_uid" ON {schema}."accidents_history" (uid, version)',
    'CREATE INDEX IF NOT EXISTS "accidents_history_geom" ON {schema}."accidents_history" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."victims" (fid BIGSERIAL PRIMARY KEY, "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "accident_uid" TEXT NOT NULL, "victim_status" TEXT NOT NULL, "outcome" TEXT NOT NULL, "sex" TEXT NOT NULL, "age" BIGINT, "activity_at_time" TEXT NOT NULL)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "victims_uid" ON {schema}."victims" (uid)',
    'CREATE TABLE IF NOT EXISTS {schema}."victims_history" (fid BIGSERIAL PRIMARY KEY, "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "accident_uid" TEXT NOT NULL, "victim_status" TEXT NOT NULL, "outcome" TEXT NOT NULL, "sex" TEXT NOT NULL, "age" BIGINT, "activity_at_time" TEXT NOT NULL, superseded_at TIMESTAMPTZ NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "victims_history_uid" ON {schema}."victims_history" (uid, version)',
    'CREATE TABLE IF NOT EXISTS {schema}."victim_identities" (fid BIGSERIAL PRIMARY KEY, "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "victim_uid" TEXT NOT NULL, "full_name" TEXT NOT NULL, "home_settlement" TEXT, "contact" TEXT)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "victim_identities_uid" ON {schema}."victim_identities" (uid)',
    'CREATE TABLE IF NOT EXISTS {schema}."victim_identities_history" (fid BIGSERIAL PRIMARY KEY, "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "victim_uid" TEXT NOT NULL, "full_name" TEXT NOT NULL, "home_settlement" TEXT, "contact" TEXT, superseded_at TIMESTAMPTZ NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "victim_identities_history_uid" ON {schema}."victim_identities_history" (uid, version)',
    'CREATE TABLE IF NOT EXISTS {schema}."cluster_strikes" (fid BIGSERIAL PRIMARY KEY, geom geometry(POLYGON, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "strike_date" DATE NOT NULL, "munition_type" TEXT NOT NULL, "submunition_type" TEXT, "submunition_count" BIGINT NOT NULL, "estimated_duds" BIGINT, "center_lon" DOUBLE PRECISION NOT NULL, "center_lat" DOUBLE PRECISION NOT NULL, "direction_deg" DOUBLE PRECISION)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "cluster_strikes_uid" ON {schema}."cluster_strikes" (uid)',
    'CREATE INDEX IF NOT EXISTS "cluster_strikes_geom" ON {schema}."cluster_strikes" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."cluster_strikes_history" (fid BIGSERIAL PRIMARY KEY, geom geometry(POLYGON, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "strike_date" DATE NOT NULL, "munition_type" TEXT NOT NULL, "submunition_type" TEXT, "submunition_count" BIGINT NOT NULL, "estimated_duds" BIGINT, "center_lon" DOUBLE PRECISION NOT NULL, "center_lat" DOUBLE PRECISION NOT NULL, "direction_deg" DOUBLE PRECISION, superseded_at TIMESTAMPTZ NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "cluster_strikes_history_uid" ON {schema}."cluster_strikes_history" (uid, version)',
    'CREATE INDEX IF NOT EXISTS "cluster_strikes_history_geom" ON {schema}."cluster_strikes_history" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."human_remains_finds" (fid BIGSERIAL PRIMARY KEY, geom geometry(POINT, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "find_date" DATE NOT NULL, "activity_uid" TEXT, "organisation_uid" TEXT, "description" TEXT, "handed_to" TEXT)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "human_remains_finds_uid" ON {schema}."human_remains_finds" (uid)',
    'CREATE INDEX IF NOT EXISTS "human_remains_finds_geom" ON {schema}."human_remains_finds" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."human_remains_finds_history" (fid BIGSERIAL PRIMARY KEY, geom geometry(POINT, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "find_date" DATE NOT NULL, "activity_uid" TEXT, "organisation_uid" TEXT, "description" TEXT, "handed_to" TEXT, superseded_at TIMESTAMPTZ NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "human_remains_finds_history_uid" ON {schema}."human_remains_finds_history" (uid, version)',
    'CREATE INDEX IF NOT EXISTS "human_remains_finds_history_geom" ON {schema}."human_remains_finds_history" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."infrastructure_points" (fid BIGSERIAL PRIMARY KEY, geom geometry(POINT, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "kind" TEXT NOT NULL, "name" TEXT, "settlement" TEXT)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "infrastructure_points_uid" ON {schema}."infrastructure_points" (uid)',
    'CREATE INDEX IF NOT EXISTS "infrastructure_points_geom" ON {schema}."infrastructure_points" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."infrastructure_points_history" (fid BIGSERIAL PRIMARY KEY, geom geometry(POINT, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "kind" TEXT NOT NULL, "name" TEXT, "settlement" TEXT, superseded_at TIMESTAMPTZ NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "infrastructure_points_history_uid" ON {schema}."infrastructure_points_history" (uid, version)',
    'CREATE INDEX IF NOT EXISTS "infrastructure_points_history_geom" ON {schema}."infrastructure_points_history" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."infrastructure_lines" (fid BIGSERIAL PRIMARY KEY, geom geometry(MULTILINESTRING, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "kind" TEXT NOT NULL, "name" TEXT, "settlement" TEXT)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "infrastructure_lines_uid" ON {schema}."infrastructure_lines" (uid)',
    'CREATE INDEX IF NOT EXISTS "infrastructure_lines_geom" ON {schema}."infrastructure_lines" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."infrastructure_lines_history" (fid BIGSERIAL PRIMARY KEY, geom geometry(MULTILINESTRING, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "kind" TEXT NOT NULL, "name" TEXT, "settlement" TEXT, superseded_at TIMESTAMPTZ NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "infrastructure_lines_history_uid" ON {schema}."infrastructure_lines_history" (uid, version)',
    'CREATE INDEX IF NOT EXISTS "infrastructure_lines_history_geom" ON {schema}."infrastructure_lines_history" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."infrastructure_areas" (fid BIGSERIAL PRIMARY KEY, geom geometry(MULTIPOLYGON, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "kind" TEXT NOT NULL, "name" TEXT, "settlement" TEXT)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "infrastructure_areas_uid" ON {schema}."infrastructure_areas" (uid)',
    'CREATE INDEX IF NOT EXISTS "infrastructure_areas_geom" ON {schema}."infrastructure_areas" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."infrastructure_areas_history" (fid BIGSERIAL PRIMARY KEY, geom geometry(MULTIPOLYGON, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "kind" TEXT NOT NULL, "name" TEXT, "settlement" TEXT, superseded_at TIMESTAMPTZ NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "infrastructure_areas_history_uid" ON {schema}."infrastructure_areas_history" (uid, version)',
    'CREATE INDEX IF NOT EXISTS "infrastructure_areas_history_geom" ON {schema}."infrastructure_areas_history" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."front_lines" (fid BIGSERIAL PRIMARY KEY, geom geometry(MULTILINESTRING, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "name" TEXT NOT NULL, "valid_from" DATE, "valid_to" DATE)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "front_lines_uid" ON {schema}."front_lines" (uid)',
    'CREATE INDEX IF NOT EXISTS "front_lines_geom" ON {schema}."front_lines" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."front_lines_history" (fid BIGSERIAL PRIMARY KEY, geom geometry(MULTILINESTRING, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "name" TEXT NOT NULL, "valid_from" DATE, "valid_to" DATE, superseded_at TIMESTAMPTZ NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "front_lines_history_uid" ON {schema}."front_lines_history" (uid, version)',
    'CREATE INDEX IF NOT EXISTS "front_lines_history_geom" ON {schema}."front_lines_history" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."organisations" (fid BIGSERIAL PRIMARY KEY, "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "name" TEXT NOT NULL, "acronym" TEXT, "org_type" TEXT NOT NULL, "accredited" BOOLEAN)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "organisations_uid" ON {schema}."organisations" (uid)',
    'CREATE TABLE IF NOT EXISTS {schema}."organisations_history" (fid BIGSERIAL PRIMARY KEY, "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "name" TEXT NOT NULL, "acronym" TEXT, "org_type" TEXT NOT NULL, "accredited" BOOLEAN, superseded_at TIMESTAMPTZ NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "organisations_history_uid" ON {schema}."organisations_history" (uid, version)',
    'CREATE TABLE IF NOT EXISTS {schema}."admin_areas" (fid BIGSERIAL PRIMARY KEY, geom geometry(MULTIPOLYGON, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "name" TEXT NOT NULL, "level" TEXT NOT NULL, "parent_uid" TEXT, "code" TEXT)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "admin_areas_uid" ON {schema}."admin_areas" (uid)',
    'CREATE INDEX IF NOT EXISTS "admin_areas_geom" ON {schema}."admin_areas" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."admin_areas_history" (fid BIGSERIAL PRIMARY KEY, geom geometry(MULTIPOLYGON, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "name" TEXT NOT NULL, "level" TEXT NOT NULL, "parent_uid" TEXT, "code" TEXT, superseded_at TIMESTAMPTZ NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "admin_areas_history_uid" ON {schema}."admin_areas_history" (uid, version)',
    'CREATE INDEX IF NOT EXISTS "admin_areas_history_geom" ON {schema}."admin_areas_history" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."hazard_areas" (fid BIGSERIAL PRIMARY KEY, geom geometry(MULTIPOLYGON, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "name" TEXT, "classification" TEXT NOT NULL, "status" TEXT, "status_history" TEXT, "contamination" TEXT NOT NULL, "evidence" TEXT, "estimated_area_m2" DOUBLE PRECISION NOT NULL, "remaining_area_m2" DOUBLE PRECISION NOT NULL, "priority" BIGINT, "admin_area_uid" TEXT, "minefield_record_uids" TEXT)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "hazard_areas_uid" ON {schema}."hazard_areas" (uid)',
    'CREATE INDEX IF NOT EXISTS "hazard_areas_geom" ON {schema}."hazard_areas" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."hazard_areas_history" (fid BIGSERIAL PRIMARY KEY, geom geometry(MULTIPOLYGON, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "name" TEXT, "classification" TEXT NOT NULL, "status" TEXT, "status_history" TEXT, "contamination" TEXT NOT NULL, "evidence" TEXT, "estimated_area_m2" DOUBLE PRECISION NOT NULL, "remaining_area_m2" DOUBLE PRECISION NOT NULL, "priority" BIGINT, "admin_area_uid" TEXT, "minefield_record_uids" TEXT, superseded_at TIMESTAMPTZ NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "hazard_areas_history_uid" ON {schema}."hazard_areas_history" (uid, version)',
    'CREATE INDEX IF NOT EXISTS "hazard_areas_history_geom" ON {schema}."hazard_areas_history" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."minefield_records" (fid BIGSERIAL PRIMARY KEY, geom geometry(MULTIPOLYGON, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "source" TEXT NOT NULL, "source_reference" TEXT, "date_received" DATE NOT NULL, "date_laid" DATE, "reference_points" TEXT, "rows" TEXT, "expected_mines" TEXT, "claimed_accuracy_m" DOUBLE PRECISION, "original_document" TEXT, "notes" TEXT)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "minefield_records_uid" ON {schema}."minefield_records" (uid)',
    'CREATE INDEX IF NOT EXISTS "minefield_records_geom" ON {schema}."minefield_records" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."minefield_records_history" (fid BIGSERIAL PRIMARY KEY, geom geometry(MULTIPOLYGON, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "source" TEXT NOT NULL, "source_reference" TEXT, "date_received" DATE NOT NULL, "date_laid" DATE, "reference_points" TEXT, "rows" TEXT, "expected_mines" TEXT, "claimed_accuracy_m" DOUBLE PRECISION, "original_document" TEXT, "notes" TEXT, superseded_at TIMESTAMPTZ NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "minefield_records_history_uid" ON {schema}."minefield_records_history" (uid, version)',
    'CREATE INDEX IF NOT EXISTS "minefield_records_history_geom" ON {schema}."minefield_records_history" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."minefield_record_assessments" (fid BIGSERIAL PRIMARY KEY, geom geometry(MULTIPOLYGON, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "minefield_record_uid" TEXT NOT NULL, "source" TEXT NOT NULL, "as_of" DATE NOT NULL, "method" TEXT NOT NULL, "recorded_mines" BIGINT NOT NULL, "verified_mines" BIGINT NOT NULL, "confirmed_mines" BIGINT NOT NULL, "precision" DOUBLE PRECISION, "precision_ci_low" DOUBLE PRECISION, "precision_ci_high" DOUBLE PRECISION, "finds_in_perimeter" BIGINT, "finds_shown" BIGINT, "recall" DOUBLE PRECISION, "found_outside_perimeter" BIGINT, "error_median_m" DOUBLE PRECISION, "error_p90_m" DOUBLE PRECISION, "error_p95_m" DOUBLE PRECISION, "iou" DOUBLE PRECISION, "shift_east_m" DOUBLE PRECISION, "shift_north_m" DOUBLE PRECISION, "rotation_deg" DOUBLE PRECISION, "scale" DOUBLE PRECISION, "sigma_shift_m" DOUBLE PRECISION, "sigma_rotation_deg" DOUBLE PRECISION, "alignment_inliers" BIGINT, "alignment_ambiguous" BOOLEAN, "corrected_verified" BIGINT, "corrected_confirmed" BIGINT, "corrected_precision" DOUBLE PRECISION, "by_type" TEXT, "grade" TEXT NOT NULL, "evidence_kind" TEXT NOT NULL, "grade_reason" TEXT NOT NULL)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "minefield_record_assessments_uid" ON {schema}."minefield_record_assessments" (uid)',
    'CREATE INDEX IF NOT EXISTS "minefield_record_assessments_geom" ON {schema}."minefield_record_assessments" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."minefield_record_assessments_history" (fid BIGSERIAL PRIMARY KEY, geom geometry(MULTIPOLYGON, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "minefield_record_uid" TEXT NOT NULL, "source" TEXT NOT NULL, "as_of" DATE NOT NULL, "method" TEXT NOT NULL, "recorded_mines" BIGINT NOT NULL, "verified_mines" BIGINT NOT NULL, "confirmed_mines" BIGINT NOT NULL, "precision" DOUBLE PRECISION, "precision_ci_low" DOUBLE PRECISION, "precision_ci_high" DOUBLE PRECISION, "finds_in_perimeter" BIGINT, "finds_shown" BIGINT, "recall" DOUBLE PRECISION, "found_outside_perimeter" BIGINT, "error_median_m" DOUBLE PRECISION, "error_p90_m" DOUBLE PRECISION, "error_p95_m" DOUBLE PRECISION, "iou" DOUBLE PRECISION, "shift_east_m" DOUBLE PRECISION, "shift_north_m" DOUBLE PRECISION, "rotation_deg" DOUBLE PRECISION, "scale" DOUBLE PRECISION, "sigma_shift_m" DOUBLE PRECISION, "sigma_rotation_deg" DOUBLE PRECISION, "alignment_inliers" BIGINT, "alignment_ambiguous" BOOLEAN, "corrected_verified" BIGINT, "corrected_confirmed" BIGINT, "corrected_precision" DOUBLE PRECISION, "by_type" TEXT, "grade" TEXT NOT NULL, "evidence_kind" TEXT NOT NULL, "grade_reason" TEXT NOT NULL, superseded_at TIMESTAMPTZ NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "minefield_record_assessments_history_uid" ON {schema}."minefield_record_assessments_history" (uid, version)',
    'CREATE INDEX IF NOT EXISTS "minefield_record_assessments_history_geom" ON {schema}."minefield_record_assessments_history" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."corrected_mine_positions" (fid BIGSERIAL PRIMARY KEY, geom geometry(POINT, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "assessment_uid" TEXT NOT NULL, "minefield_record_uid" TEXT NOT NULL, "recorded_item_uid" TEXT NOT NULL, "eo_type" TEXT NOT NULL, "shift_m" DOUBLE PRECISION NOT NULL, "uncertainty_m" DOUBLE PRECISION)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "corrected_mine_positions_uid" ON {schema}."corrected_mine_positions" (uid)',
    'CREATE INDEX IF NOT EXISTS "corrected_mine_positions_geom" ON {schema}."corrected_mine_positions" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."corrected_mine_positions_history" (fid BIGSERIAL PRIMARY KEY, geom geometry(POINT, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "assessment_uid" TEXT NOT NULL, "minefield_record_uid" TEXT NOT NULL, "recorded_item_uid" TEXT NOT NULL, "eo_type" TEXT NOT NULL, "shift_m" DOUBLE PRECISION NOT NULL, "uncertainty_m" DOUBLE PRECISION, superseded_at TIMESTAMPTZ NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "corrected_mine_positions_history_uid" ON {schema}."corrected_mine_positions_history" (uid, version)',
    'CREATE INDEX IF NOT EXISTS "corrected_mine_positions_history_geom" ON {schema}."corrected_mine_positions_history" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."eo_items" (fid BIGSERIAL PRIMARY KEY, geom geometry(POINT, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "status" TEXT NOT NULL, "eo_type" TEXT NOT NULL, "eo_model" TEXT, "depth_cm" DOUBLE PRECISION, "condition" TEXT, "how_found" TEXT, "minefield_record_uid" TEXT, "row_label" TEXT, "activity_uid" TEXT, "hazard_area_uid" TEXT)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "eo_items_uid" ON {schema}."eo_items" (uid)',
    'CREATE INDEX IF NOT EXISTS "eo_items_geom" ON {schema}."eo_items" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."eo_items_history" (fid BIGSERIAL PRIMARY KEY, geom geometry(POINT, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "status" TEXT NOT NULL, "eo_type" TEXT NOT NULL, "eo_model" TEXT, "depth_cm" DOUBLE PRECISION, "condition" TEXT, "how_found" TEXT, "minefield_record_uid" TEXT, "row_label" TEXT, "activity_uid" TEXT, "hazard_area_uid" TEXT, superseded_at TIMESTAMPTZ NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "eo_items_history_uid" ON {schema}."eo_items_history" (uid, version)',
    'CREATE INDEX IF NOT EXISTS "eo_items_history_geom" ON {schema}."eo_items_history" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."ground_truth_items" (fid BIGSERIAL PRIMARY KEY, geom geometry(POINT, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "eo_type" TEXT NOT NULL, "eo_model" TEXT, "laid_context" TEXT NOT NULL, "minefield_id" TEXT, "row_label" TEXT, "date_laid" DATE, "fate" TEXT)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "ground_truth_items_uid" ON {schema}."ground_truth_items" (uid)',
    'CREATE INDEX IF NOT EXISTS "ground_truth_items_geom" ON {schema}."ground_truth_items" USING GIST (geom)',
    'CREATE TABLE IF NOT EXISTS {schema}."ground_truth_items_history" (fid BIGSERIAL PRIMARY KEY, geom geometry(POINT, 4326), "uid" TEXT NOT NULL, "version" BIGINT, "date_of_information" DATE NOT NULL, "entered_by" TEXT, "entered_at" TIMESTAMPTZ, "change_reason" TEXT, "eo_type" TEXT NOT NULL, "eo_model" TEXT, "laid_context" TEXT NOT NULL, "minefield_id" TEXT, "row_label" TEXT, "date_laid" DATE, "fate" TEXT, superseded_at TIMESTAMPTZ NOT NULL)',
    'CREATE INDEX IF NOT EXISTS "ground_truth_items_history_uid" ON {schema}."ground_truth_items_history" (uid, version)',
    'CREATE INDEX IF NOT EXISTS "ground_truth_items_history_geom" ON {schema}."ground_truth_items_history" USING GIST (geom)',
]
# fmt: on


def upgrade() -> None:
    schema = store_schema()
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for ddl in BASELINE_DDL:
        op.execute(ddl.replace("{schema}", schema))


def downgrade() -> None:
    raise NotImplementedError("the baseline is not removed by a migration: drop the schema instead")
