package athena

import (
	"context"

	"glaux/internal/wire"
)

// Engine versions glaux serves. A workgroup's engine decides its type: the two Spark engines
// make a Spark workgroup, any other one an SQL workgroup. PySpark engine version 3 runs
// calculations and notebooks; Apache Spark version 3.5 runs code only over Spark Connect
// (GetSessionEndpoint, docs/connect.md).
const (
	EngineVersionAuto    = "AUTO"                     // SQL workgroups: let the service pick
	EngineVersionSQL3    = "Athena engine version 3"  // the SQL engine, AUTO's effective version
	EngineVersionSpark3  = "PySpark engine version 3" // the calculations engine
	EngineVersionSpark35 = "Apache Spark version 3.5" // the Spark Connect engine
)

// DefaultNotebookVersion is the only notebook runtime Athena documents.
const DefaultNotebookVersion = "Athena notebook version 1"

// engineVersions is what ListEngineVersions answers, SQL (the default) first.
var engineVersions = []string{EngineVersionSQL3, EngineVersionSpark3, EngineVersionSpark35}

// effectiveEngineVersion resolves a selected engine version ("" counts as AUTO) to the version
// that actually runs, or refuses an engine glaux does not have.
func effectiveEngineVersion(selected string) (string, error) {
	switch selected {
	case "", EngineVersionAuto:
		return EngineVersionSQL3, nil
	case EngineVersionSQL3, EngineVersionSpark3, EngineVersionSpark35:
		return selected, nil
	}
	return "", invalid("The engine version %q in EngineVersion.SelectedEngineVersion is not supported: choose %s, %q, %q or %q (see ListEngineVersions).",
		selected, EngineVersionAuto, EngineVersionSQL3, EngineVersionSpark3, EngineVersionSpark35)
}

func isSparkEngine(effective string) bool {
	return effective == EngineVersionSpark3 || effective == EngineVersionSpark35
}

// isConnectEngine tells whether an engine runs code over Spark Connect only (no calculations
// or notebooks).
func isConnectEngine(effective string) bool { return effective == EngineVersionSpark35 }

// selectedEngineVersion is what the workgroup's client chose, AUTO when it chose nothing.
func (wg *WorkGroup) selectedEngineVersion() string {
	if ev := wg.Configuration.EngineVersion; ev != nil && ev.SelectedEngineVersion != nil && *ev.SelectedEngineVersion != "" {
		return *ev.SelectedEngineVersion
	}
	return EngineVersionAuto
}

// engineVersion returns the workgroup's selected and effective engine versions. A stored
// workgroup was validated on write, so an unknown selection (which cannot happen) reads as SQL.
func (wg *WorkGroup) engineVersion() wire.EngineVersion {
	sel := wg.selectedEngineVersion()
	eff, err := effectiveEngineVersion(sel)
	if err != nil {
		eff = EngineVersionSQL3
	}
	return wire.EngineVersion{SelectedEngineVersion: refOf(sel), EffectiveEngineVersion: refOf(eff)}
}

// isSpark tells whether the workgroup runs Spark sessions (its engine is PySpark).
func (wg *WorkGroup) isSpark() bool {
	return isSparkEngine(*wg.engineVersion().EffectiveEngineVersion)
}

// isConnect tells whether the workgroup's sessions are reached only over Spark Connect.
func (wg *WorkGroup) isConnect() bool {
	return isConnectEngine(*wg.engineVersion().EffectiveEngineVersion)
}

// ListEngineVersions lists the engine versions a workgroup may select.
func (s *Service) ListEngineVersions(ctx context.Context, in *wire.ListEngineVersionsInput) (*wire.ListEngineVersionsOutput, error) {
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	page, next := pageStrings(engineVersions, after.Key, pageSize(in.MaxResults, 10))
	out := &wire.ListEngineVersionsOutput{EngineVersions: []wire.EngineVersion{}, NextToken: next}
	for _, v := range page {
		out.EngineVersions = append(out.EngineVersions, wire.EngineVersion{SelectedEngineVersion: refOf(v), EffectiveEngineVersion: refOf(v)})
	}
	return out, nil
}

// ListApplicationDPUSizes lists the notebook runtimes and the DPU sizes their sessions support.
func (s *Service) ListApplicationDPUSizes(ctx context.Context, in *wire.ListApplicationDPUSizesInput) (*wire.ListApplicationDPUSizesOutput, error) {
	after, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	runtime := s.cfg.NotebookVersion
	if runtime == "" {
		runtime = DefaultNotebookVersion
	}
	sizes := append([]int32{}, s.cfg.DPUSizes...)
	if len(sizes) == 0 {
		sizes = []int32{1}
	}
	page, next := pageStrings([]string{runtime}, after.Key, pageSize(in.MaxResults, 100))
	out := &wire.ListApplicationDPUSizesOutput{ApplicationDPUSizes: []wire.ApplicationDPUSizes{}, NextToken: next}
	for _, id := range page {
		out.ApplicationDPUSizes = append(out.ApplicationDPUSizes, wire.ApplicationDPUSizes{ApplicationRuntimeId: refOf(id), SupportedDPUSizes: sizes})
	}
	return out, nil
}

// pageStrings pages a short fixed list by its items: after is the last item of the previous
// page ("" for the first); next is nil on the last page.
func pageStrings(all []string, after string, limit int) (page []string, next *string) {
	start := 0
	if after != "" {
		start = len(all)
		for i, v := range all {
			if v == after {
				start = i + 1
				break
			}
		}
	}
	end := min(start+limit, len(all))
	page = all[start:end]
	if end < len(all) && len(page) > 0 {
		next = encodeToken(Cursor{Key: page[len(page)-1]})
	}
	return page, next
}

// refOf returns a pointer to a copy of v: wire shapes use pointers for optional members.
func refOf[T any](v T) *T { return &v }

// valOf returns *p, or the zero value for nil.
func valOf[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// isTrue reports whether an optional boolean is set and true.
func isTrue(p *bool) bool { return p != nil && *p }
