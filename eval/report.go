package eval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Report is the outcome of a Harness run on one split.
type Report struct {
	Dataset     string // "movielens-100k", or the train file
	Protocol    string
	K           int
	ExcludeSeen bool

	Users             int // evaluated: train users with test items
	UsersNoTest       int // train users without test items, skipped
	UsersNoTrain      int // test users without train rows, skipped
	SeenInTest        int // held-out items the user met in train
	Items             int // the item universe every ranking covers
	TrainInteractions int // distinct (user, item) pairs in train
	TestItems         int // held-out (user, item) pairs
	ValUsers          int // users of the validation split; 0 when not tuned

	Results []Result
	Failed  []Failure // families that could not fit this dataset
	Best    string    // the result with the highest test NDCG@K (the first on ties)
}

// Failure is a family that could not be measured, and why.
type Failure struct {
	Name string
	Err  string
}

// Result is one family's tuned model on the test split.
type Result struct {
	Name   string // the family
	Config string // the chosen config, Model.Describe()

	NDCG, Recall, HR, MRR float64
	Coverage              float64

	TrainSeconds float64 // fitting the chosen config on the full train
	PeakMB       float64 // the heap that fit took, see FitStats
	Trials       int     // configs fitted on validation
	ValNDCG      float64 // the chosen config's validation NDCG@K; -1 when not tuned
}

func (r *Report) best() string {
	best := -1
	for k, res := range r.Results {
		if best < 0 || res.NDCG > r.Results[best].NDCG {
			best = k
		}
	}
	if best < 0 {
		return ""
	}
	return r.Results[best].Name
}

// WriteJSON writes {"models": [{"name", "ndcg@K", "recall@K", "hr@K", "mrr@K", "coverage",
// "train_seconds", "peak_mb", "config"}], "best": name}, with K the report's k.
func (r *Report) WriteJSON(w io.Writer) error {
	var b bytes.Buffer
	b.WriteString(`{"models": [`)
	for k, res := range r.Results {
		if k > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('{')
		for f, kv := range []struct {
			key string
			v   any
		}{
			{"name", res.Name},
			{fmt.Sprintf("ndcg@%d", r.K), res.NDCG},
			{fmt.Sprintf("recall@%d", r.K), res.Recall},
			{fmt.Sprintf("hr@%d", r.K), res.HR},
			{fmt.Sprintf("mrr@%d", r.K), res.MRR},
			{"coverage", res.Coverage},
			{"train_seconds", res.TrainSeconds},
			{"peak_mb", res.PeakMB},
			{"config", res.Config},
		} {
			if f > 0 {
				b.WriteString(", ")
			}
			key, _ := json.Marshal(kv.key)
			val, err := json.Marshal(kv.v)
			if err != nil {
				return fmt.Errorf("%s of %s: %w", kv.key, res.Name, err)
			}
			b.Write(key)
			b.WriteString(": ")
			b.Write(val)
		}
		b.WriteByte('}')
	}
	best, _ := json.Marshal(r.Best)
	fmt.Fprintf(&b, `], "best": %s}`+"\n", best)
	_, err := w.Write(b.Bytes())
	return err
}

// WriteTable writes the report as an aligned text table under a summary of the split.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "%s, %s, exclude seen %t: %d users evaluated (%d without test items and %d without train rows skipped), %d items, %d train pairs, %d test pairs",
		r.Dataset, r.Protocol, r.ExcludeSeen, r.Users, r.UsersNoTest, r.UsersNoTrain, r.Items, r.TrainInteractions, r.TestItems)
	if r.SeenInTest > 0 {
		fmt.Fprintf(w, ", %d of them met in train", r.SeenInTest)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	k := r.K
	fmt.Fprintf(tw, "MODEL\tNDCG@%d\tRECALL@%d\tHR@%d\tMRR@%d\tCOVERAGE\tTRAIN_S\tPEAK_MB\tTRIALS\tCONFIG\n", k, k, k, k)
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.2f\t%.1f\t%d\t%s\n", res.Name, res.NDCG, res.Recall,
			res.HR, res.MRR, res.Coverage, res.TrainSeconds, res.PeakMB, res.Trials, res.Config)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, f := range r.Failed {
		fmt.Fprintf(w, "failed: %s: %s\n", f.Name, f.Err)
	}
	_, err := fmt.Fprintf(w, "best: %s\n", r.Best)
	return err
}

// Markdown returns the reports as one Markdown table, dataset × model × metric, with a line
// per dataset on who was evaluated. All reports should share K.
func Markdown(reports []*Report) string {
	var b strings.Builder
	k := 10
	if len(reports) > 0 {
		k = reports[0].K
	}
	fmt.Fprintf(&b, "| dataset | protocol | model | NDCG@%d | Recall@%d | HR@%d | MRR@%d | coverage | train s | peak MB | chosen config |\n", k, k, k, k)
	b.WriteString("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range reports {
		for _, res := range r.Results {
			name := res.Name
			if res.Name == r.Best {
				name = "**" + name + "**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.2f | %.1f | `%s` |\n",
				r.Dataset, r.Protocol, name, res.NDCG, res.Recall, res.HR, res.MRR, res.Coverage,
				res.TrainSeconds, res.PeakMB, res.Config)
		}
	}
	b.WriteString("\n")
	for _, r := range reports {
		fmt.Fprintf(&b, "- %s: %d users evaluated, %d train users without test items and %d test users without train rows skipped; %d items ranked; %d held-out pairs (%d already met in train); seen items excluded: %t.\n",
			r.Dataset, r.Users, r.UsersNoTest, r.UsersNoTrain, r.Items, r.TestItems, r.SeenInTest, r.ExcludeSeen)
		for _, f := range r.Failed {
			fmt.Fprintf(&b, "- %s: %s not measured: %s\n", r.Dataset, f.Name, f.Err)
		}
	}
	return b.String()
}

// Markers delimits a generated section of a Markdown file such as docs/quality.md.
type Markers struct{ Begin, End string }

// The generated sections of docs/quality.md: the public datasets' results and the
// synthetic training-time benchmark.
var (
	ResultsMarkers = Markers{"<!-- results:begin -->", "<!-- results:end -->"}
	SimMarkers     = Markers{"<!-- sim:begin -->", "<!-- sim:end -->"}
)

// Replace returns doc with the text between the markers replaced by content. It is an error
// if the markers are missing or out of order.
func (m Markers) Replace(doc, content string) (string, error) {
	lo := strings.Index(doc, m.Begin)
	hi := strings.Index(doc, m.End)
	if lo < 0 || hi < lo {
		return "", errors.New("the markers " + m.Begin + " and " + m.End + " are missing or out of order")
	}
	return doc[:lo+len(m.Begin)] + "\n" + content + doc[hi:], nil
}
