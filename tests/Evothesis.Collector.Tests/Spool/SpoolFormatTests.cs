using System.Buffers.Binary;
using Evothesis.Collector.Spool.Internal;

namespace Evothesis.Collector.Tests.Spool;

public class SpoolFormatTests
{
    [Test]
    public void Checksum_StandardCheckInput_IsCrc32C()
    {
        SpoolFormat.Checksum("123456789"u8).Should().Be(0xE3069283, "the CRC-32C (Castagnoli) check value");
    }

    [Test]
    public void SealFrame_AnyFlippedBit_FailsTheChecksum()
    {
        var frame = new byte[SpoolFormat.FrameHeaderSize + 12];
        "twelve bytes"u8.CopyTo(frame.AsSpan(SpoolFormat.FrameHeaderSize));
        SpoolFormat.SealFrame(frame, continued: true, 1_764_158_400_000);
        SpoolFormat.IsIntact(frame).Should().BeTrue();

        for (var bit = 0; bit < frame.Length * 8; bit++)
        {
            frame[bit / 8] ^= (byte)(1 << (bit % 8));
            SpoolFormat.IsIntact(frame).Should().BeFalse("bit {0} was flipped", bit);
            frame[bit / 8] ^= (byte)(1 << (bit % 8));
        }
    }

    [Test]
    public void ReadFrameHeader_SealedFrame_ReturnsLengthFlagAndTime()
    {
        var frame = new byte[SpoolFormat.FrameHeaderSize + 3];
        SpoolFormat.SealFrame(frame, continued: true, 42);

        var header = SpoolFormat.ReadFrameHeader(frame);

        header.PayloadLength.Should().Be(3);
        header.Continued.Should().BeTrue();
        header.AppendedAtMilliseconds.Should().Be(42);
        header.FrameLength.Should().Be(frame.Length);
    }

    [Test]
    public void IsIntact_AllZeroFrame_IsFalse()
    {
        SpoolFormat.IsIntact(new byte[SpoolFormat.FrameHeaderSize]).Should().BeFalse("a zero-filled tail must not read as a record");
    }

    [Test]
    public void SegmentFileName_RoundTripsTheBasePosition()
    {
        var name = SpoolFormat.SegmentFileName(1234567);

        name.Should().Be("00000000000001234567.seg");
        SpoolFormat.TryParseSegmentFileName(name, out var basePosition).Should().BeTrue();
        basePosition.Should().Be(1234567);
        SpoolFormat.TryParseSegmentFileName("1234567.seg", out _).Should().BeFalse();
        SpoolFormat.TryParseSegmentFileName("0000000000000000000x.seg", out _).Should().BeFalse();
    }

    [Test]
    public void TryReadCheckpoint_WrittenCheckpoint_RoundTripsAndRejectsDamage()
    {
        var content = new byte[SpoolFormat.CheckpointSize];
        SpoolFormat.WriteCheckpoint(content, 987_654_321);

        SpoolFormat.TryReadCheckpoint(content, out var position).Should().BeTrue();
        position.Should().Be(987_654_321);
        content[9] ^= 1;
        SpoolFormat.TryReadCheckpoint(content, out _).Should().BeFalse();
        SpoolFormat.TryReadCheckpoint(content.AsSpan(0, 10), out _).Should().BeFalse();
    }

    [Test]
    public void WriteSegmentHeader_IsMagicVersionReservedAndBase()
    {
        var header = new byte[SpoolFormat.SegmentHeaderSize];
        SpoolFormat.WriteSegmentHeader(header, 0x0102_0304_0506_0708);

        header.Should().Equal(
            (byte)'E', (byte)'V', (byte)'S', (byte)'P', 1, 0, 0, 0,
            0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01);
        SpoolFormat.IsValidSegmentHeader(header, 0x0102_0304_0506_0708).Should().BeTrue();
    }

    [Test]
    public void IsValidSegmentHeader_OtherBaseVersionMagicOrShortHeader_IsFalse()
    {
        var header = new byte[SpoolFormat.SegmentHeaderSize];
        SpoolFormat.WriteSegmentHeader(header, 4096);

        SpoolFormat.IsValidSegmentHeader(header, 4097).Should().BeFalse("a file renamed to another position");
        SpoolFormat.IsValidSegmentHeader(header.AsSpan(0, SpoolFormat.SegmentHeaderSize - 1), 4096).Should().BeFalse();

        var version = (byte[])header.Clone();
        version[4] = 2;
        SpoolFormat.IsValidSegmentHeader(version, 4096).Should().BeFalse("a segment of another format version");

        var magic = (byte[])header.Clone();
        magic[3] = (byte)'Q';
        SpoolFormat.IsValidSegmentHeader(magic, 4096).Should().BeFalse("a file that is no segment");
    }

    [TestCase(false, 0x0000_0003u)]
    [TestCase(true, 0x8000_0003u)]
    public void SealFrame_IsChecksumLengthWordAndTime(bool continued, uint lengthWord)
    {
        var frame = new byte[SpoolFormat.FrameHeaderSize + 3];
        "abc"u8.CopyTo(frame.AsSpan(SpoolFormat.FrameHeaderSize));

        SpoolFormat.SealFrame(frame, continued, 0x0102_0304_0506_0708);

        BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(4)).Should().Be(lengthWord);
        frame.AsSpan(8, 8).ToArray().Should().Equal(0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01);
        BinaryPrimitives.ReadUInt32LittleEndian(frame).Should().Be(SpoolFormat.Checksum(frame.AsSpan(4)));
        var header = SpoolFormat.ReadFrameHeader(frame);
        header.Continued.Should().Be(continued);
        header.PayloadLength.Should().Be(3);
        header.Checksum.Should().Be(BinaryPrimitives.ReadUInt32LittleEndian(frame));
    }

    [Test]
    public void IsIntact_SealedFrameWithoutPayload_IsTrue()
    {
        var frame = new byte[SpoolFormat.FrameHeaderSize];
        SpoolFormat.SealFrame(frame, continued: false, 1);

        SpoolFormat.IsIntact(frame).Should().BeTrue();
        SpoolFormat.IsIntact(frame.AsSpan(0, SpoolFormat.FrameHeaderSize - 1)).Should().BeFalse();
    }

    [TestCase("00000000000001234567.chk")]
    [TestCase("+0000000000001234567.seg")]
    [TestCase(" 0000000000001234567.seg")]
    [TestCase("000000000000001234567.seg")]
    public void TryParseSegmentFileName_NotASegmentName_IsFalse(string name) =>
        SpoolFormat.TryParseSegmentFileName(name, out _).Should().BeFalse();

    [Test]
    public void WriteCheckpoint_IsMagicVersionPositionAndChecksum()
    {
        var content = new byte[SpoolFormat.CheckpointSize];
        SpoolFormat.WriteCheckpoint(content, 0x0102_0304_0506_0708);

        content.AsSpan(0, 16).ToArray().Should().Equal(
            (byte)'E', (byte)'V', (byte)'C', (byte)'P', 1, 0, 0, 0,
            0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01);
        BinaryPrimitives.ReadUInt32LittleEndian(content.AsSpan(16)).Should().Be(SpoolFormat.Checksum(content.AsSpan(0, 16)));
    }

    // Damage the checksum catches is tested above; these are well-sealed checkpoints the spool must still refuse.
    [TestCase(0, (byte)'X', 1L)]
    [TestCase(4, (byte)2, 1L)]
    [TestCase(-1, (byte)0, -1L)]
    public void TryReadCheckpoint_SealedButOtherMagicVersionOrNegativePosition_IsFalse(int offset, byte value, long position)
    {
        var content = new byte[SpoolFormat.CheckpointSize];
        SpoolFormat.WriteCheckpoint(content, position);
        if (offset >= 0)
        {
            content[offset] = value;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(content.AsSpan(16), SpoolFormat.Checksum(content.AsSpan(0, 16)));

        SpoolFormat.TryReadCheckpoint(content, out _).Should().BeFalse();
    }

    [Test]
    public void TryReadCheckpoint_PositionZero_IsRead()
    {
        var content = new byte[SpoolFormat.CheckpointSize];
        SpoolFormat.WriteCheckpoint(content, 0);

        SpoolFormat.TryReadCheckpoint(content, out var position).Should().BeTrue();
        position.Should().Be(0);
    }
}
