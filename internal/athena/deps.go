// A session's own Python files and jars from the object store (docs/packages.md).
package athena

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"glaux/internal/wire"
)

// depKeys are the Spark properties whose comma-separated values may name s3:// objects of
// the object backend: glaux fetches them into the session's scratch dir before its driver
// starts, so neither the driver nor the executors need to reach the store for them.
var depKeys = []string{"spark.submit.pyFiles", "spark.jars", "spark.files"}

// sessionSparkProperties are the Spark properties a session asked for: the dependency keys
// of its AdditionalConfigs (Athena's notebook editor puts them there), its SparkProperties
// over those, and the properties of its spark-defaults classification (the Spark Connect
// engine's way) over both.
func sessionSparkProperties(ec *wire.EngineConfiguration) map[string]string {
	out := make(map[string]string, len(ec.SparkProperties)+1)
	for _, k := range depKeys {
		if v, ok := ec.AdditionalConfigs[k]; ok {
			out[k] = v
		}
	}
	for k, v := range ec.SparkProperties {
		out[k] = v
	}
	for _, c := range ec.Classifications {
		if valOf(c.Name) == classificationSparkDefaults {
			for k, v := range c.Properties {
				out[k] = v
			}
		}
	}
	return out
}

// fetchDeps replaces each s3:// URI in conf's dependency keys with a local copy below
// scratch/deps. Other URIs (s3a://, file paths) are Spark's to read.
func (s *Service) fetchDeps(ctx context.Context, conf map[string]string, scratch string) error {
	n := 0
	for _, key := range depKeys {
		v, ok := conf[key]
		if !ok || !strings.Contains(v, "s3://") {
			continue
		}
		parts := strings.Split(v, ",")
		for i, p := range parts {
			p = strings.TrimSpace(p)
			if !strings.HasPrefix(p, "s3://") {
				continue
			}
			n++
			// One dir per object: two URIs may end in the same name.
			local := filepath.Join(scratch, "deps", strconv.Itoa(n), path.Base(p))
			if err := s.fetchObject(ctx, p, local); err != nil {
				return fmt.Errorf("%s: fetching %s: %w", key, p, err)
			}
			parts[i] = local
		}
		conf[key] = strings.Join(parts, ",")
	}
	return nil
}

func (s *Service) fetchObject(ctx context.Context, uri, local string) error {
	if strings.HasSuffix(uri, "/") || path.Base(uri) == "" {
		return fmt.Errorf("not an object")
	}
	r, err := s.objects.Get(ctx, uri)
	if err != nil {
		return err
	}
	defer r.Close()
	// Readable by an isolated runner's uid (docs/security.md): the scratch dir around them
	// admits only that runner.
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(local, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
