package assets

import (
	"encoding/json"
	"fmt"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// LogStore is where Logstash writes the stack's container logs in
// Elasticsearch, and how long they are kept there.
//
// Logstash cannot set the retention itself: with data_stream => true its
// elasticsearch output refuses ilm_* and template settings ("Invalid data
// stream configuration", logstash-plugins/logstash-output-elasticsearch
// lib/logstash/outputs/elasticsearch/data_stream_support.rb,
// check_enabled_data_stream_config!). So the installer sends Elasticsearch
// an ILM policy and an index template for the data stream through its API.
type LogStore struct {
	// DataStream is the name Logstash writes to: type-dataset-namespace as
	// main.conf sets them (data_stream_support.rb, data_stream_name).
	DataStream string
	// Policy is the ILM policy that deletes old backing indices.
	Policy string
	// Template is the index template that gives the data stream's backing
	// indices the policy. Its priority is above Elasticsearch's built-in
	// "logs" template (logs-*-*, priority 100, policy "logs").
	Template string
	// RetentionDays is the answers' log_retention_days.
	RetentionDays int
}

// logTemplatePriority outranks Elasticsearch's built-in logs template.
const logTemplatePriority = 200

func newLogStore(project string, a answers.Answers) *LogStore {
	return &LogStore{
		DataStream:    "logs-containers-" + project,
		Policy:        project + "-logs-retention",
		Template:      project + "-logs",
		RetentionDays: a.LogRetentionDays,
	}
}

// DeleteAfter is the policy's delete phase min_age, e.g. "90d".
func (l LogStore) DeleteAfter() string { return fmt.Sprintf("%dd", l.RetentionDays) }

// PolicyBody is the ILM policy, as PUT _ilm/policy/<Policy> takes it. The
// hot phase rolls the data stream over daily, so the delete phase (whose
// min_age counts from rollover) removes one day of logs at a time, never
// the recent ones.
func (l LogStore) PolicyBody() []byte {
	return mustJSON(map[string]any{
		"policy": map[string]any{
			"_meta": map[string]any{"managed_by": "fineract-installer", "answers_key": "log_retention_days"},
			"phases": map[string]any{
				"hot": map[string]any{"min_age": "0ms", "actions": map[string]any{
					"rollover": map[string]any{"max_age": "1d", "max_primary_shard_size": "10gb"}}},
				"delete": map[string]any{"min_age": l.DeleteAfter(), "actions": map[string]any{"delete": map[string]any{}}},
			},
		},
	})
}

// TemplateBody is the index template, as PUT _index_template/<Template>
// takes it.
func (l LogStore) TemplateBody() []byte {
	return mustJSON(map[string]any{
		"index_patterns": []string{l.DataStream},
		"data_stream":    map[string]any{},
		"priority":       logTemplatePriority,
		"template": map[string]any{"settings": map[string]any{
			"index.lifecycle.name": l.Policy,
		}},
		"_meta": map[string]any{"managed_by": "fineract-installer"},
	})
}

func mustJSON(v any) []byte {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err) // maps of strings and numbers always encode
	}
	return append(data, '\n')
}
