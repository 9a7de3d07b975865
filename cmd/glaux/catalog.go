package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"path/filepath"

	"glaux/internal/catalog"
)

// startCatalog starts the table catalog cfg asks for (docs/catalog.md) and returns the Spark
// properties every session gets for it (warm-pool runners too: they are static) and what
// stops it.
func startCatalog(ctx context.Context, cfg *Config, secret []byte, log *slog.Logger) (map[string]string, func(), error) {
	mode := cfg.Catalog
	if mode == "" || cfg.FakeSpark {
		mode = "memory"
	}
	if mode != "memory" && cfg.RunnerUser != "" {
		// An isolated runner may write only in its own scratch dir, where its warehouse moves:
		// a shared catalog would point at tables other runners cannot read.
		log.Warn("with --runner-user each session gets its own in-memory catalog, not the shared one (docs/catalog.md)", "catalog", mode)
		mode = "memory"
	}
	if mode == "memory" {
		return nil, func() {}, nil
	}
	wh, err := warehouse(cfg)
	if err != nil {
		return nil, nil, err
	}
	conf := map[string]string{"spark.sql.warehouse.dir": wh}
	maps.Copy(conf, tableFormats(cfg, wh, log))
	if mode == "hive" {
		maps.Copy(conf, catalog.ExternalConf(cfg.CatalogURI))
		log.Info("sessions share the Hive metastore", "uri", cfg.CatalogURI, "warehouse", wh)
		return conf, func() {}, nil
	}
	pysparkJars, err := catalog.PySparkJars(ctx, cfg.Python)
	if err != nil {
		return nil, nil, fmt.Errorf("--catalog derby: %w", err)
	}
	jars, err := catalog.FindJars(pysparkJars, cfg.CatalogJars)
	if err != nil {
		return nil, nil, fmt.Errorf("--catalog derby: %w; or run with --catalog memory (a catalog per session)", err)
	}
	srv, err := catalog.Start(ctx, catalog.Options{
		Dir: filepath.Join(cfg.DataDir, "metastore"), Port: cfg.CatalogPort,
		Password: catalog.Password(secret), Jars: jars, Log: log,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("--catalog derby: %w", err)
	}
	maps.Copy(conf, srv.SparkConf())
	log.Info("sessions share the table catalog", "port", srv.Port(), "warehouse", wh)
	return conf, srv.Stop, nil
}

// tableFormats is the Spark configuration of USING iceberg and USING delta, when their jars
// are in --table-jars (docs/catalog.md); without them sessions get neither, and a warning.
func tableFormats(cfg *Config, warehouse string, log *slog.Logger) map[string]string {
	if cfg.TableJars == "" {
		return nil
	}
	jars, err := catalog.TableJars(cfg.TableJars)
	if err != nil {
		log.Warn("sessions get no Iceberg or Delta tables", "err", err)
		return nil
	}
	return catalog.TableConf(jars, warehouse)
}

// warehouse is where the shared catalog's managed tables live: --warehouse, else the results
// bucket with --objects s3, else <data-dir>/warehouse.
func warehouse(cfg *Config) (string, error) {
	if cfg.Warehouse != "" {
		return cfg.Warehouse, nil
	}
	if cfg.Objects == "s3" {
		u, err := url.Parse(cfg.OutputLocation)
		if err != nil || u.Scheme != "s3" || u.Host == "" {
			return "", fmt.Errorf("--objects s3: no bucket in --default-output-location %q for the warehouse; set --warehouse", cfg.OutputLocation)
		}
		return "s3a://" + u.Host + "/warehouse/", nil
	}
	dir, err := filepath.Abs(filepath.Join(cfg.DataDir, "warehouse"))
	if err != nil {
		return "", err
	}
	return dir, os.MkdirAll(dir, 0o700)
}
