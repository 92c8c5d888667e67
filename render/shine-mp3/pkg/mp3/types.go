package mp3

import "sync"

const (
	PI          = 3.14159265358979
	PI4         = 0.78539816339745
	PI12        = 0.26179938779915
	PI36        = 0.087266462599717
	PI64        = 0.049087385212
	SQRT2       = 1.41421356237
	LN2         = 0.69314718
	LN_TO_LOG10 = 0.2302585093
	BLKSIZE     = 1024
	/* for loop unrolling, require that HAN_SIZE%8==0 */
	HAN_SIZE      = 512
	SCALE_BLOCK   = 12
	SCALE_RANGE   = 64
	SCALE         = 32768
	SUBBAND_LIMIT = 32
	MAX_CHANNELS  = 2
	GRANULE_SIZE  = 576
	MAX_GRANULES  = 2
)

type mode int

const (
	STEREO mode = iota
	JOINT_STEREO
	DUAL_CHANNEL
	MONO
)

type emphasis int

const (
	NONE    emphasis = 0
	MU50_15 emphasis = 1
	CITT    emphasis = 3
)

type Wave struct {
	Channels   int64
	SampleRate int64
}
type MPEG struct {
	Version            mpegVersion
	Layer              int64
	GranulesPerFrame   int64
	Mode               mode
	Bitrate            int64
	Emph               emphasis
	Padding            int64
	BitsPerFrame       int64
	BitsPerSlot        int64
	FracSlotsPerFrame  float64
	Slot_lag           float64
	WholeSlotsPerFrame int64
	BitrateIndex       int64
	SampleRateIndex    int64
	Crc                int64
	Ext                int64
	ModeExt            int64
	Copyright          int64
	Original           int64
}

// L3Loop is the iteration loop's state.
type L3Loop struct {
	// The granule being quantized (granuleStats): loopScratch's xrAbs and
	// sufMax (see there), bandMax and bandEn each scalefactor band's
	// largest magnitude and energy (bandEn only when scfsi is worked out),
	// Xrmax the largest magnitude.
	*loopScratch
	bandMax [scaleFactorBand_LMax]uint32
	bandEn  [scaleFactorBand_LMax]int64
	Xrmax   int32
	// prevStep is each channel's step in its previous granule, where
	// searchStep starts.
	prevStep [MAX_CHANNELS]int
	// gr
	EnTot  [2]int32
	En     [2][21]int32
	Xm     [2][21]int32
	Xrmaxl [2]int32
}
type GranuleInfo struct {
	Part2_3Length         uint64
	BigValues             uint64
	Count1                uint64
	GlobalGain            uint64
	ScaleFactorCompress   uint64
	TableSelect           [3]uint64
	Region0Count          uint64
	Region1Count          uint64
	PreFlag               uint64
	ScaleFactorScale      uint64
	Count1TableSelect     uint64
	Part2Length           uint64
	ScaleFactorBandMaxLen uint64
	Address1              uint64
	Address2              uint64
	Address3              uint64
	QuantizerStepSize     int64
	ScaleFactorLen        [4]uint64
}
type SideInfo struct {
	PrivateBits           uint64
	ReservoirDrain        int64
	ScaleFactorSelectInfo [MAX_CHANNELS][4]uint64
	Granules              [MAX_GRANULES]struct {
		Channels [MAX_CHANNELS]struct {
			Tt GranuleInfo
		}
	}
}
type PsyRatio struct {
	L [MAX_GRANULES][MAX_CHANNELS][21]float64
}
type PsyXMin struct {
	L [MAX_GRANULES][MAX_CHANNELS][21]float64
}

// ScaleFactor holds the long-block scalefactors (all 0: shine has no
// psychoacoustic model; synthcast dropped the unused short-block ones).
type ScaleFactor struct {
	L [2][2][22]int32
}
type Encoder struct {
	Wave             Wave
	Mpeg             MPEG
	bitstream        bitstream
	sideInfo         SideInfo
	sideInfoLen      int64
	meanBits         int64
	scaleFactor      ScaleFactor
	PerceptualEnergy [2][2]float64
	// fe is the analysis front end (filterbank and MDCT, l3subband.go and
	// l3mdct.go); it fills mdctFrequency, which the loop reads.
	fe frontEnd
	// *frameState is the frame's working memory (mdctFrequency,
	// l3Encoding), borrowed for each frame (encodeFrame).
	*frameState
	reservoirSize    int64
	reservoirMaxSize int64
	l3loop           L3Loop
}

// frameState is an Encoder's working memory for one frame: the spectrum
// the front end hands the loop, the quantized values the loop hands the
// writer, and the loop's scratch. Nothing in it outlives the frame, so an
// Encoder borrows one from framePool for each frame (encodeFrame) rather
// than holding its 18 KiB between frames.
//
// synthcast: upstream kept all of it in the Encoder.
type frameState struct {
	// mdctFrequency is the spectrum, [channel][granule][line], in the
	// quantizer's fixed point.
	mdctFrequency [2][2][GRANULE_SIZE]int32
	// l3Encoding is the quantized spectrum's magnitudes (at most
	// maxQuant); the signs are mdctFrequency's.
	//
	// synthcast: int64 with signs upstream (18 KiB; now 4.5 KiB).
	l3Encoding [2][2][GRANULE_SIZE]int16
	loop       loopScratch
}

// loopScratch is the loop's working memory for one granule.
type loopScratch struct {
	// xrAbs is the granule's spectrum's magnitudes, sufMax[p] the largest
	// magnitude of its lines 2p..575.
	xrAbs  [GRANULE_SIZE]uint32
	sufMax [GRANULE_SIZE/2 + 1]uint32
	// scratch holds the quantized values of the step searchStep tries while
	// l3Encoding holds the best so far.
	scratch [GRANULE_SIZE]int16
}

// framePool holds the frameStates of Encoders between frames: as many as
// frames are being encoded at once, not one per Encoder.
var framePool = sync.Pool{New: func() any { return new(frameState) }}

// attach gives enc a frameState for a frame and reports whether it
// borrowed one (release gives it back); an Encoder that has one already
// (the tests keep theirs to look at) keeps it.
func (enc *Encoder) attach() bool {
	if enc.frameState != nil {
		return false
	}
	enc.frameState = framePool.Get().(*frameState)
	enc.l3loop.loopScratch = &enc.frameState.loop
	return true
}

// release returns enc's frameState to framePool.
func (enc *Encoder) release() {
	fs := enc.frameState
	enc.frameState, enc.l3loop.loopScratch = nil, nil
	framePool.Put(fs)
}
