package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// ErrCeremonyAborted is returned by Ceremony.Show and Ceremony.Ask when the
// operator quits during the key ceremony or the program has ended.
var ErrCeremonyAborted = errors.New("the Vault key ceremony was abandoned before the shares were confirmed")

// Ceremony is the hook between the Vault step, which runs on the pipeline's
// goroutine, and the deploy program: each call sends a request into the
// running program and blocks until the operator has answered (or ctx ends).
// Its two methods have the shapes steps/vault.ShowAndConfirm expects:
//
//	cer := tui.NewCeremony()
//	custody := vault.ShowAndConfirm(
//		func(ctx context.Context, r *vault.InitResult) error { return cer.Show(ctx, r.Keys, r.Threshold) },
//		cer.Ask)
//	// ... build the plan with custody, then
//	tui.RunDeploy(ctx, tui.DeployOptions{Ceremony: cer, ...})
//
// Show displays the shares once, with a warning, and returns when the
// operator says they are recorded; the program forgets them then. Ask asks
// for one share back; ShowAndConfirm compares it and asks again (up to
// three times) when it does not match, and the screen then says so.
// A Ceremony serves one RunDeploy at a time; calls made while no deploy
// program runs wait for one (or for ctx).
type Ceremony struct {
	requests chan ceremonyRequest
}

// NewCeremony returns a hook to pass to DeployOptions.Ceremony.
func NewCeremony() *Ceremony {
	return &Ceremony{requests: make(chan ceremonyRequest)}
}

// ceremonyRequest is one question from the pipeline; reply is buffered so
// the program never blocks answering it.
type ceremonyRequest struct {
	ask bool
	// secret, when set, is the prompt of a line to read without echo.
	secret string
	// credentials, when set, are passwords to show once instead of shares.
	credentials string
	shares      []string
	threshold   int
	index       int
	reply       chan ceremonyReply
}

type ceremonyReply struct {
	entered string
	err     error
}

// Show displays the unseal key shares once and returns nil when the
// operator has confirmed recording them.
func (c *Ceremony) Show(ctx context.Context, shares []string, threshold int) error {
	if len(shares) == 0 {
		return errors.New("no key shares to show")
	}
	_, err := c.call(ctx, ceremonyRequest{shares: append([]string(nil), shares...), threshold: threshold})
	return err
}

// ShowCredentials displays passwords the installer set, once, and returns
// nil when the operator has confirmed recording them. text is what to
// show, already laid out.
func (c *Ceremony) ShowCredentials(ctx context.Context, text string) error {
	_, err := c.call(ctx, ceremonyRequest{credentials: text})
	return err
}

// Ask asks the operator for share index (0-based) and returns what they typed.
func (c *Ceremony) Ask(ctx context.Context, index int) (string, error) {
	return c.call(ctx, ceremonyRequest{ask: true, index: index})
}

// Secret shows prompt and reads one line in a field that does not show
// what is typed: an unseal key share or a passphrase the pipeline needs
// while the deploy program owns the terminal. Spaces around the line are
// not part of it; an empty line is not accepted.
func (c *Ceremony) Secret(ctx context.Context, prompt string) ([]byte, error) {
	s, err := c.call(ctx, ceremonyRequest{secret: prompt})
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}

func (c *Ceremony) call(ctx context.Context, req ceremonyRequest) (string, error) {
	req.reply = make(chan ceremonyReply, 1)
	select {
	case c.requests <- req:
	case <-ctx.Done():
		return "", fmt.Errorf("vault key ceremony: %w", ctx.Err())
	}
	select {
	case r := <-req.reply:
		return r.entered, r.err
	case <-ctx.Done():
		return "", fmt.Errorf("vault key ceremony: %w", ctx.Err())
	}
}

// ceremonyRequestMsg delivers a request to the program.
type ceremonyRequestMsg struct{ req ceremonyRequest }

// waitForCeremony receives the next request, until stop is closed.
func waitForCeremony(c *Ceremony, stop <-chan struct{}) tea.Cmd {
	return func() tea.Msg {
		select {
		case req := <-c.requests:
			return ceremonyRequestMsg{req}
		case <-stop:
			return nil
		}
	}
}

// ceremonyPhase is where the ceremony screen stands.
type ceremonyPhase int

const (
	ceremonyShow    ceremonyPhase = iota // shares on screen
	ceremonyConfirm                      // "recorded all of them?"
	ceremonyAsk                          // type one back
	ceremonySecret                       // type a secret the pipeline asks for
)

// ceremonyModel is the key ceremony screen.
type ceremonyModel struct {
	phase       ceremonyPhase
	credentials string
	shares      []string
	threshold   int
	index       int // share asked for, 0-based
	asked       int // how many times that share was asked for
	input       textinput.Model
	pending     *ceremonyRequest
	// prompt is the question of a secret request.
	prompt string
}

// sharePlaceholder is the share field's hint while it is empty.
const sharePlaceholder = "the share, exactly as recorded"

func newCeremonyModel() ceremonyModel {
	in := textinput.New()
	in.Prompt = "› "
	in.Placeholder = sharePlaceholder
	in.CharLimit = 256
	return ceremonyModel{index: -1, input: in}
}

// textWidth is the width of the screen's text on a terminal width cells
// wide.
func textWidth(width int) int { return min(width-2, 96) }

// setWidth fits the share's input field to the screen: the field scrolls
// what is typed beyond it, and shows its whole placeholder only when it
// has a width.
func (c *ceremonyModel) setWidth(width int) {
	c.input.SetWidth(max(textWidth(width)-lipgloss.Width(c.input.Prompt)-1, 1))
}

// open takes a request from the pipeline.
func (c ceremonyModel) open(req ceremonyRequest) (ceremonyModel, tea.Cmd) {
	c.pending = &req
	if req.secret != "" {
		c.phase, c.prompt = ceremonySecret, req.secret
		c.input.Reset()
		c.input.EchoMode = textinput.EchoPassword
		c.input.Placeholder = ""
		return c, c.input.Focus()
	}
	c.input.EchoMode = textinput.EchoNormal
	c.input.Placeholder = sharePlaceholder
	if !req.ask {
		c.phase, c.shares, c.threshold, c.credentials = ceremonyShow, req.shares, req.threshold, req.credentials
		c.index, c.asked = -1, 0
		return c, nil
	}
	if req.index == c.index {
		c.asked++
	} else {
		c.index, c.asked = req.index, 1
	}
	c.phase = ceremonyAsk
	c.input.Reset()
	return c, c.input.Focus()
}

// answer replies to the pending request; the screen is done with it.
func (c ceremonyModel) answer(r ceremonyReply) ceremonyModel {
	if c.pending != nil {
		c.pending.reply <- r
		c.pending = nil
	}
	return c
}

// abandon answers a pending request with ErrCeremonyAborted.
func (c ceremonyModel) abandon() ceremonyModel {
	c.shares, c.credentials, c.prompt = nil, "", ""
	c.input.Reset()
	return c.answer(ceremonyReply{err: ErrCeremonyAborted})
}

// update handles a key; done reports that the request was answered.
func (c ceremonyModel) update(msg tea.Msg, k KeyMap) (m ceremonyModel, done bool, cmd tea.Cmd) {
	km, isKey := msg.(tea.KeyPressMsg)
	switch c.phase {
	case ceremonyShow:
		if isKey && key.Matches(km, k.Recorded) {
			c.phase = ceremonyConfirm
		}
	case ceremonyConfirm:
		switch {
		case isKey && key.Matches(km, k.Yes):
			c.shares, c.credentials = nil, "" // shown once: forget them
			return c.answer(ceremonyReply{}), true, nil
		case isKey && key.Matches(km, k.No):
			c.phase = ceremonyShow
		}
	case ceremonyAsk, ceremonySecret:
		if isKey && key.Matches(km, k.Submit) {
			v := strings.TrimSpace(c.input.Value())
			if v == "" {
				return c, false, nil
			}
			c.input.Reset()
			c.input.Blur()
			return c.answer(ceremonyReply{entered: v}), true, nil
		}
		c.input, cmd = c.input.Update(msg)
	}
	return c, false, cmd
}

// view draws the screen body at a width.
func (c ceremonyModel) view(st Styles, width int) string {
	var b strings.Builder
	w := textWidth(width)
	switch {
	case c.credentials != "" && c.phase != ceremonyAsk:
		box := st.Alert.Width(w + st.Alert.GetHorizontalBorderSize())
		b.WriteString(box.Render(wrapText("Fineract's built-in users no longer accept the well-known default password. "+
			"These passwords are shown ONCE: record them now.", w-4, "")) + "\n")
		b.WriteString(st.Share.Render(c.credentials) + "\n")
		if c.phase == ceremonyConfirm {
			b.WriteString("\n" + st.Warn.Render(wrapText("Have you recorded them? They will not be shown again.", w, "")))
		}
		return b.String()
	}
	switch c.phase {
	case ceremonyShow, ceremonyConfirm:
		n := len(c.shares)
		warn := fmt.Sprintf("These %d Vault unseal key shares are shown ONCE and the installer does not keep them. "+
			"Write each one down, or hand it to its key holder, now. %s", n, vaultExplanation(n, c.threshold))
		// w cells inside the border (lipgloss counts the border in Width).
		box := st.Alert.Width(w + st.Alert.GetHorizontalBorderSize())
		b.WriteString(box.Render(wrapText(warn, w-4, "")) + "\n\n")
		for i, s := range c.shares {
			b.WriteString(fmt.Sprintf("  Share %-2d  %s\n", i+1, st.Share.Render(s)))
		}
		if c.phase == ceremonyConfirm {
			b.WriteString("\n" + st.Warn.Render(wrapText(fmt.Sprintf("Have you recorded all %d shares? They will not be shown again.", n), w, "")))
		} else {
			b.WriteString("\n" + wrapText("Next you will type one of them back, to prove they were recorded.", w, ""))
		}
	case ceremonyAsk:
		b.WriteString(wrapText(fmt.Sprintf("Type share #%d exactly as you recorded it, to prove the shares were kept.", c.index+1), w, "") + "\n\n")
		b.WriteString(c.input.View() + "\n\n")
		if c.asked > 1 {
			b.WriteString(st.Fail.Render(fmt.Sprintf("✗ That did not match share #%d. Attempt %d of 3.", c.index+1, c.asked)) + "\n")
		}
		b.WriteString(st.Muted.Render("The install continues once the share matches."))
	case ceremonySecret:
		b.WriteString(wrapText(c.prompt, w, "") + "\n\n")
		b.WriteString(c.input.View() + "\n\n")
		b.WriteString(st.Muted.Render("What you type is not shown; Enter sends it."))
	}
	return b.String()
}

// helpKeys are the ceremony screen's bindings.
func (c ceremonyModel) helpKeys(k KeyMap) []key.Binding {
	switch c.phase {
	case ceremonyConfirm:
		return []key.Binding{k.Yes, k.No}
	case ceremonyAsk, ceremonySecret:
		return []key.Binding{k.Submit, k.Interrupt}
	}
	return []key.Binding{k.Recorded, k.Interrupt}
}
