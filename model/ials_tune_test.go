package model_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/qianmian/qianmian/model"
)

// The tests below are the searches behind DefaultIALSConfig and DefaultEASEConfig: MovieLens
// 100K, validation carved from train (never the test split). They take minutes, so they
// run only with QIANMIAN_TUNE=1:
//
//	QIANMIAN_TUNE=1 go test ./model -run ML100K_Tune -v | grep VAL | sort -k4 -n
func tuneOn(t *testing.T) {
	if os.Getenv("QIANMIAN_TUNE") == "" {
		t.Skip("set QIANMIAN_TUNE=1 to run the MovieLens 100K searches")
	}
}

func logVal(t *testing.T, m model.Model, n, hr float64, note string) {
	t.Helper()
	t.Logf("VAL ndcg@10 %.4f hr@10 %.4f | %s %s %s", n, hr, m.Name(), m.Describe(), note)
}

func TestML100K_TuneIALS(t *testing.T) {
	tuneOn(t)
	val, _ := mlSplits(t, mlOnes)
	for _, reg := range []float32{5, 10, 20, 40} {
		for _, alpha := range []float32{1, 2, 4} {
			for _, h := range [][2]float32{{0, 0}, {3, 32}, {3, 64}, {3, 128}, {5, 64}} {
				c := model.DefaultIALSConfig()
				c.Reg, c.Alpha, c.HistoryHalfLife, c.HistoryAlpha = reg, alpha, h[0], h[1]
				m := &model.IALS{Config: c}
				n, hr, fit := mlFitEval(t, m, val)
				logVal(t, m, n, hr, fit.String())
			}
		}
	}
}

func TestML100K_TuneIALSAblation(t *testing.T) {
	tuneOn(t)
	val, _ := mlSplits(t, mlOnes)
	var cs []model.IALSConfig
	vary := func(f func(*model.IALSConfig)) {
		c := model.DefaultIALSConfig()
		f(&c)
		cs = append(cs, c)
	}
	for _, k := range []int{32, 64, 128, 256} {
		vary(func(c *model.IALSConfig) { c.Factors = k })
	}
	for _, reg := range []float32{10, 20, 40} {
		vary(func(c *model.IALSConfig) { c.RegExp, c.Reg = 0, reg })
	}
	for _, e := range []int{5, 15, 20} {
		vary(func(c *model.IALSConfig) { c.Epochs = e })
	}
	for _, s := range []int{1, 2, 5, 0} {
		vary(func(c *model.IALSConfig) { c.CGSteps = s })
	}
	for _, seed := range []uint64{1, 2, 3} {
		vary(func(c *model.IALSConfig) { c.Seed = seed })
	}
	for _, c := range cs {
		m := &model.IALS{Config: c}
		n, hr, fit := mlFitEval(t, m, val)
		logVal(t, m, n, hr, fit.String())
	}
}

func TestML100K_TuneEASE(t *testing.T) {
	tuneOn(t)
	val, _ := mlSplits(t, mlOnes)
	for _, l := range []float64{1, 2, 4, 8, 16, 32, 64} {
		for _, h := range []float64{0, 3, 5, 8} {
			c := model.DefaultEASEConfig()
			c.Lambda, c.HistoryHalfLife = l, h
			m := &model.EASE{Config: c}
			n, hr, fit := mlFitEval(t, m, val)
			logVal(t, m, n, hr, fit.String())
		}
	}
}

func TestML100K_TuneEASEWeights(t *testing.T) {
	tuneOn(t)
	val, _ := mlSplits(t, func(r mlRating, _ int) float32 { return r.rating })
	for _, l := range []float64{8, 16, 32} {
		for _, lw := range []bool{false, true} {
			c := model.DefaultEASEConfig()
			c.Lambda, c.HistoryHalfLife, c.LogWeight = l, 5, lw
			m := &model.EASE{Config: c}
			n, hr, fit := mlFitEval(t, m, val)
			logVal(t, m, n, hr, "ratings as weights "+fit.String())
		}
	}
}

// debiased divides scores by popularity^beta.
type debiased struct {
	model.Model
	pop  []float32
	beta float64
}

func (d debiased) ScoreUser(u int32, dst []float32) {
	d.Model.ScoreUser(u, dst)
	for j := range dst {
		dst[j] /= float32(math.Pow(float64(d.pop[j])+1, d.beta))
	}
}

// timePrior adds gamma × the popularity of items around the user's last train time, decayed
// by distance in time, counting earlier interactions only (causal) or both sides.
type timePrior struct {
	model.Model
	d        *model.Dataset
	byT      []tItem // all train interactions by time
	half     float64
	gamma    float32
	twoSided bool
}

type tItem struct {
	at   int64
	item int32
}

func newTimePrior(m model.Model, d *model.Dataset, half float64, gamma float32, two bool) timePrior {
	p := timePrior{Model: m, d: d, half: half, gamma: gamma, twoSided: two}
	for u := int32(0); u < int32(d.NumUsers()); u++ {
		items, _, times := d.Row(u)
		for q, i := range items {
			p.byT = append(p.byT, tItem{times[q], i})
		}
	}
	slices.SortFunc(p.byT, func(a, b tItem) int { return cmp.Compare(a.at, b.at) })
	return p
}

func (p timePrior) ScoreUser(u int32, dst []float32) {
	p.Model.ScoreUser(u, dst)
	_, _, times := p.d.Row(u)
	if len(times) == 0 {
		return
	}
	T := slices.Max(times)
	prior := make([]float64, len(dst))
	var total float64
	for _, e := range p.byT {
		if e.at > T && !p.twoSided {
			break
		}
		dt := math.Abs(float64(T - e.at))
		w := math.Exp2(-dt / p.half)
		prior[e.item] += w
		total += w
	}
	// Scale: the user's max model score times the prior's share of the max.
	mx := slices.Max(prior)
	var top float32
	for _, s := range dst {
		top = max(top, s)
	}
	for j := range dst {
		dst[j] += p.gamma * top * float32(prior[j]/mx)
	}
}

func TestML100K_TuneEASEExtras(t *testing.T) {
	tuneOn(t)
	val, _ := mlSplits(t, mlOnes)
	c := model.DefaultEASEConfig()
	c.Lambda, c.HistoryHalfLife = 16, 5
	m := &model.EASE{Config: c}
	if err := m.Fit(context.Background(), val.train); err != nil {
		t.Fatal(err)
	}
	pop := make([]float32, val.train.NumItems())
	for u := int32(0); u < int32(val.train.NumUsers()); u++ {
		items, _, _ := val.train.Row(u)
		for _, i := range items {
			pop[i]++
		}
	}
	n, hr := mlEval(m, val)
	logVal(t, m, n, hr, "")
	for _, beta := range []float64{0.05, 0.1, 0.2, 0.4} {
		n, hr := mlEval(debiased{m, pop, beta}, val)
		logVal(t, m, n, hr, fmt.Sprintf("debiased score/(1+pop)^%g", beta))
	}
	const day = 86400
	for _, two := range []bool{false, true} {
		for _, half := range []float64{3 * day, 14 * day, 60 * day} {
			for _, g := range []float32{0.1, 0.3, 1} {
				n, hr := mlEval(newTimePrior(m, val.train, half, g, two), val)
				logVal(t, m, n, hr, fmt.Sprintf("+ time-local popularity half=%gd gamma=%g two-sided=%v", half/day, g, two))
			}
		}
	}
}

// TestML100K_Ablation reports on the test split what the recency weighting adds: each
// model with and without it, every config chosen on validation by the searches above.
func TestML100K_Ablation(t *testing.T) {
	tuneOn(t)
	val, test := mlSplits(t, mlOnes)
	plainIALS := model.DefaultIALSConfig()
	plainIALS.Reg, plainIALS.Alpha, plainIALS.HistoryHalfLife, plainIALS.HistoryAlpha = 10, 1, 0, 0
	plainEASE := model.DefaultEASEConfig()
	plainEASE.Lambda, plainEASE.HistoryHalfLife = 8, 0
	for _, newModel := range []func() model.Model{
		func() model.Model { return &model.IALS{Config: plainIALS} },
		func() model.Model { return &model.IALS{Config: model.DefaultIALSConfig()} },
		func() model.Model { return &model.EASE{Config: plainEASE} },
		func() model.Model { return &model.EASE{Config: model.DefaultEASEConfig()} },
	} {
		vn, vh, _ := mlFitEval(t, newModel(), val)
		m := newModel()
		tn, th, fit := mlFitEval(t, m, test)
		t.Logf("%-5s %-70s val %.4f/%.4f test NDCG@10 %.4f HR@10 %.4f fit %v", m.Name(), m.Describe(), vn, vh, tn, th, fit)
	}
}
