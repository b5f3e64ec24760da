using Mesh.Protocol.Versioning;

namespace Mesh.Protocol.Tests;

/// <summary>A node's clock never issues a timestamp that is not greater than every one before it.</summary>
public class HybridClockTests
{
    /// <summary>A wall clock the test sets by hand.</summary>
    private sealed class Wall(long ms)
    {
        public long Ms { get; set; } = ms;
        public HybridClock ClockFor(string node) => new(node, () => Ms);
    }

    private static HybridTimestamp At(long wall, int counter, string node = "web-1") => new(wall, counter, node);

    [Fact]
    public void A_reading_takes_the_wall_time_the_node_and_a_zero_counter()
    {
        var clock = new Wall(1_000).ClockFor("web-1");

        Assert.Equal(At(1_000, 0), clock.Now());
    }

    [Fact]
    public void While_the_wall_clock_stands_still_the_counter_counts_up()
    {
        var clock = new Wall(1_000).ClockFor("web-1");

        Assert.Equal([At(1_000, 0), At(1_000, 1), At(1_000, 2)], [clock.Now(), clock.Now(), clock.Now()]);
    }

    [Fact]
    public void When_the_wall_clock_steps_back_readings_keep_increasing()
    {
        var wall = new Wall(5_000);
        var clock = wall.ClockFor("web-1");
        var before = clock.Now();

        wall.Ms = 4_000;
        var after = clock.Now();

        Assert.True(after > before);
        Assert.Equal(At(5_000, 1), after);
    }

    [Fact]
    public void When_the_wall_clock_moves_on_the_counter_starts_again()
    {
        var wall = new Wall(1_000);
        var clock = wall.ClockFor("web-1");
        clock.Now();
        clock.Now();

        wall.Ms = 1_001;

        Assert.Equal(At(1_001, 0), clock.Now());
    }

    [Fact]
    public void A_full_counter_borrows_the_next_millisecond_instead_of_wrapping()
    {
        var clock = new Wall(1_000).ClockFor("web-1");
        for (var i = 0; i <= HybridTimestamp.MaxCounter; i++) clock.Now();

        Assert.Equal(At(1_001, 0), clock.Now());
    }

    [Fact]
    public void Observing_a_timestamp_from_ahead_moves_the_clock_past_it()
    {
        var clock = new Wall(1_000).ClockFor("web-1");
        var remote = At(9_000, 7, "web-2");

        clock.Observe(remote);
        var next = clock.Now();

        Assert.True(next > remote);
        Assert.Equal(At(9_000, 8), next);
    }

    [Fact]
    public void Observing_a_higher_counter_in_the_same_millisecond_moves_the_clock_past_it()
    {
        var clock = new Wall(1_000).ClockFor("web-1");
        clock.Now();
        var remote = At(1_000, 41, "web-2");

        clock.Observe(remote);

        Assert.Equal(At(1_000, 42), clock.Now());
    }

    [Fact]
    public void Observing_a_timestamp_from_behind_changes_nothing()
    {
        var wall = new Wall(1_000);
        var clock = wall.ClockFor("web-1");
        clock.Now();

        clock.Observe(At(500, 99, "web-2"));
        wall.Ms = 1_001;

        Assert.Equal(At(1_001, 0), clock.Now());
    }

    [Fact]
    public void Readings_taken_from_many_threads_at_once_are_all_distinct_and_increasing_per_thread()
    {
        var clock = new Wall(1_000).ClockFor("web-1");
        const int threads = 8, readings = 2_000;

        var perThread = Enumerable.Range(0, threads)
            .Select(_ => Task.Run(() => Enumerable.Range(0, readings).Select(_ => clock.Now()).ToArray()))
            .Select(t => t.Result)
            .ToArray();

        Assert.Equal(threads * readings, perThread.SelectMany(r => r).Distinct().Count());
        Assert.All(perThread, r => Assert.True(r.Zip(r.Skip(1)).All(p => p.Second > p.First)));
    }

    [Fact]
    public void Without_an_injected_wall_clock_readings_follow_real_time()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        var reading = new HybridClock("web-1").Now();

        Assert.InRange(reading.WallMs, before, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.Equal("web-1", reading.Node);
    }

    [Fact]
    public void A_correction_that_sets_a_clock_ahead_back_to_the_mesh_time_never_makes_a_reading_go_back()
    {
        // A node five minutes ahead stamps with its own clock until it learns the majority's time.
        var wall = new Wall(1_000_000 + 300_000);
        var correction = 0L;
        var clock = new HybridClock("ahead", () => wall.Ms + correction);
        var before = clock.Now();

        correction = -300_000;
        wall.Ms += 10;
        var after = clock.Now();

        Assert.True(after > before);
        Assert.Equal(At(before.WallMs, 1, "ahead"), after);
        // Once the corrected time passes its last reading, it stamps with the corrected time again.
        wall.Ms += 300_000;
        Assert.Equal(At(wall.Ms + correction, 0, "ahead"), clock.Now());
    }

    [Fact]
    public void A_push_over_a_head_stamped_by_a_clock_ahead_is_still_stamped_above_it()
    {
        var clock = new Wall(1_000).ClockFor("web-1");
        var headFromAhead = At(301_000, 3, "ahead");

        clock.Observe(headFromAhead);

        Assert.True(clock.Now() > headFromAhead);
    }
}
