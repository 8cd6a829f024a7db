package wait

import "testing"

func TestRegistry(t *testing.T) {
	r := NewRegistry[string]()
	a, b := r.Register(1), r.Register(2)
	r.Trigger(1, "one")
	r.Trigger(3, "nobody waits") // must not block or panic
	if got := <-a; got != "one" {
		t.Fatalf("id 1 got %q", got)
	}
	r.Cancel(2)
	r.Trigger(2, "too late")
	select {
	case v := <-b:
		t.Fatalf("canceled id 2 received %q", v)
	default:
	}
	if n := r.Len(); n != 0 {
		t.Fatalf("Len = %d after every id was triggered or canceled", n)
	}
}

func TestIndex(t *testing.T) {
	var w Index
	done := w.Wait(0)
	select {
	case <-done:
	default:
		t.Fatal("Wait(0) on a new Index is not released at once")
	}
	five, seven := w.Wait(5), w.Wait(7)
	w.Advance(6)
	select {
	case <-five:
	default:
		t.Fatal("Wait(5) not released at 6")
	}
	select {
	case <-seven:
		t.Fatal("Wait(7) released at 6")
	default:
	}
	w.Advance(7)
	<-seven
	if len(w.waiters) != 0 {
		t.Fatalf("%d waiters kept after all were released", len(w.waiters))
	}
}
