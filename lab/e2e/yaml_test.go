package e2e

import (
	"gopkg.in/yaml.v3"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

func yamlOf(a answers.Answers) ([]byte, error) { return yaml.Marshal(a) }
