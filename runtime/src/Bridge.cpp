//===- Bridge.cpp - Encoder -> LLM redistribution between grids -----------===//
//
// The slicing and the ranks involved are described in Bridge.h.
//
//===----------------------------------------------------------------------===//

#include "mimo/runtime/Bridge.h"

#include <cstring>

namespace mimo::rt {

namespace {
constexpr int kForwardTag = 7001;
constexpr int kBackwardTag = 7002;

void copyRows(float *dst, const float *src, std::int64_t elems) {
  if (elems > 0 && dst != src)
    std::memmove(dst, src, static_cast<std::size_t>(elems) * sizeof(float));
}
} // namespace

const char *bridgeModeName(BridgeMode mode) {
  switch (mode) {
  case BridgeMode::PassThrough:
    return "pass-through";
  case BridgeMode::FanIn:
    return "fan-in";
  case BridgeMode::FanOut:
    return "fan-out";
  }
  return "?";
}

StatusOr<Bridge> Bridge::create(Communicator &world, LayoutKind layout,
                                const ProcessGrid &encoder,
                                const ProcessGrid &llm,
                                std::int64_t encoderRows, std::int64_t hidden) {
  int worldSize = world.size();
  if (encoder.worldSize() != worldSize || llm.worldSize() != worldSize)
    return invalidArgument("bridge: grids are built for a world of " +
                           std::to_string(encoder.worldSize()) + "/" +
                           std::to_string(llm.worldSize()) +
                           " ranks, the communicator has " +
                           std::to_string(worldSize));
  if (encoderRows < 0 || hidden <= 0)
    return invalidArgument("bridge: rows (" + std::to_string(encoderRows) +
                           ") must be non-negative and hidden (" +
                           std::to_string(hidden) + ") positive");
  if (encoder.cp() != 1)
    return invalidArgument("bridge: encoder cp (" +
                           std::to_string(encoder.cp()) +
                           ") must be 1; the projector output is not split "
                           "along the sequence");
  MIMO_ASSIGN_OR_RETURN(
      Layout checked,
      Layout::create(layout, worldSize, {{"encoder", encoder}, {"llm", llm}}));
  (void)checked;

  Bridge b;
  b.world_ = &world;
  b.layout_ = layout;
  b.enc_ = encoder.shape();
  b.llm_ = llm.shape();
  b.encOffset_ = encoder.offset();
  b.llmOffset_ = llm.offset();
  b.hidden_ = hidden;
  b.encoderRows_ = encoderRows;
  int encDp = encoder.dp(), llmDp = llm.dp();
  if (encDp == llmDp) {
    b.mode_ = BridgeMode::PassThrough;
    b.llmRows_ = encoderRows;
  } else if (encDp > llmDp) {
    if (encDp % llmDp != 0)
      return invalidArgument("bridge: encoder dp (" + std::to_string(encDp) +
                             ") must be a multiple of llm dp (" +
                             std::to_string(llmDp) + ")");
    b.mode_ = BridgeMode::FanIn;
    b.factor_ = encDp / llmDp;
    b.llmRows_ = encoderRows * b.factor_;
  } else {
    if (llmDp % encDp != 0)
      return invalidArgument("bridge: llm dp (" + std::to_string(llmDp) +
                             ") must be a multiple of encoder dp (" +
                             std::to_string(encDp) + ")");
    b.mode_ = BridgeMode::FanOut;
    b.factor_ = llmDp / encDp;
    if (encoderRows % b.factor_ != 0)
      return invalidArgument(
          "bridge: encoder rows per replica (" + std::to_string(encoderRows) +
          ") must split evenly over the " + std::to_string(b.factor_) +
          " llm replicas they feed");
    b.llmRows_ = encoderRows / b.factor_;
  }

  int r = world.rank();
  b.rank_ = r;
  b.inEnc_ = encoder.contains(r);
  b.inLlm_ = llm.contains(r);
  if (b.inEnc_)
    b.encCoord_ = *encoder.coordOf(r);
  if (b.inLlm_)
    b.llmCoord_ = *llm.coordOf(r);
  int k = b.factor_;

  if (layout != LayoutKind::Disaggregated) {
    b.fwdInput_ = b.encCoord_.pp == encoder.pp() - 1;
    b.fwdOutput_ = true;
    b.bwdInput_ = b.llmCoord_.pp == 0;
    b.bwdOutput_ = true;
    // Every rank creates the same kinds of groups in the same order, so
    // overlapping creations never wait on each other.
    if (encoder.pp() > 1) {
      MIMO_ASSIGN_OR_RETURN(std::vector<int> g, encoder.groupOf(r, kPpMask));
      MIMO_ASSIGN_OR_RETURN(b.encPpGroup_, world.group(g));
    }
    if (llm.pp() > 1) {
      MIMO_ASSIGN_OR_RETURN(std::vector<int> g, llm.groupOf(r, kPpMask));
      MIMO_ASSIGN_OR_RETURN(b.llmPpGroup_, world.group(g));
    }
    int encMp = encoder.modelParallelSize(), llmMp = llm.modelParallelSize();
    std::vector<int> fan;
    if (b.mode_ == BridgeMode::FanIn) {
      // The k encoder replicas of this LLM replica, same position in each.
      for (int m = 0; m < k; ++m)
        fan.push_back(b.llmCoord_.dp * llmMp + m * encMp + r % encMp);
    } else if (b.mode_ == BridgeMode::FanOut) {
      for (int m = 0; m < k; ++m)
        fan.push_back(b.encCoord_.dp * encMp + m * llmMp + r % llmMp);
    }
    if (!fan.empty()) {
      MIMO_ASSIGN_OR_RETURN(b.fanGroup_, world.group(fan));
    }
    return b;
  }

  b.fwdInput_ = b.inEnc_ && b.encCoord_.pp == encoder.pp() - 1;
  b.fwdOutput_ = b.inLlm_ && b.llmCoord_.pp == 0;
  b.bwdInput_ = b.fwdOutput_;
  b.bwdOutput_ = b.fwdInput_;
  for (int e = 0; e < encDp; ++e)
    b.encLeaders_.push_back(encoder.rankOf({0, 0, encoder.pp() - 1, e}));
  for (int j = 0; j < llmDp; ++j)
    b.llmLeaders_.push_back(llm.rankOf({0, 0, 0, j}));
  if (b.fwdInput_ && encoder.tp() * encoder.cp() > 1) {
    MIMO_ASSIGN_OR_RETURN(std::vector<int> g,
                          encoder.groupOf(r, kTpMask | kCpMask));
    MIMO_ASSIGN_OR_RETURN(b.encBoundaryGroup_, world.group(g));
  }
  if (b.fwdOutput_ && llm.tp() * llm.cp() > 1) {
    MIMO_ASSIGN_OR_RETURN(std::vector<int> g,
                          llm.groupOf(r, kTpMask | kCpMask));
    MIMO_ASSIGN_OR_RETURN(b.llmBoundaryGroup_, world.group(g));
  }
  return b;
}

std::pair<std::int64_t, std::int64_t> Bridge::encoderRowRange() const {
  if (!inEnc_)
    return {0, 0};
  return {encCoord_.dp * encoderRows_, (encCoord_.dp + 1) * encoderRows_};
}

std::pair<std::int64_t, std::int64_t> Bridge::llmRowRange() const {
  if (!inLlm_)
    return {0, 0};
  return {llmCoord_.dp * llmRows_, (llmCoord_.dp + 1) * llmRows_};
}

Status Bridge::forward(const float *encoderOut, float *llmIn) {
  if (fwdInput_ && !encoderOut && encoderRows_ > 0)
    return invalidArgument("bridge forward: rank " + std::to_string(rank_) +
                           " holds encoder output but got no input buffer");
  if (fwdOutput_ && !llmIn && llmRows_ > 0)
    return invalidArgument("bridge forward: rank " + std::to_string(rank_) +
                           " receives llm input but got no output buffer");
  if (layout_ == LayoutKind::Disaggregated)
    return forwardDisaggregated(encoderOut, llmIn);
  return forwardShared(encoderOut, llmIn);
}

Status Bridge::backward(const float *llmInGrad, float *encoderOutGrad) {
  if (bwdInput_ && !llmInGrad && llmRows_ > 0)
    return invalidArgument("bridge backward: rank " + std::to_string(rank_) +
                           " holds the llm-input gradient but got no input "
                           "buffer");
  if (bwdOutput_ && !encoderOutGrad && encoderRows_ > 0)
    return invalidArgument("bridge backward: rank " + std::to_string(rank_) +
                           " receives the encoder-output gradient but got no "
                           "output buffer");
  if (layout_ == LayoutKind::Disaggregated)
    return backwardDisaggregated(llmInGrad, encoderOutGrad);
  return backwardShared(llmInGrad, encoderOutGrad);
}

Status Bridge::forwardShared(const float *in, float *out) {
  std::int64_t encElems = encoderRows_ * hidden_;
  std::int64_t llmElems = llmRows_ * hidden_;
  const float *src = in;
  if (encPpGroup_) {
    scratch_.resize(encElems);
    if (fwdInput_)
      copyRows(scratch_.data(), in, encElems);
    MIMO_RETURN_IF_ERROR(
        encPpGroup_->broadcast(scratch_.data(), encElems, enc_.pp - 1));
    src = scratch_.data();
  }
  switch (mode_) {
  case BridgeMode::PassThrough:
    copyRows(out, src, encElems);
    return Status::success();
  case BridgeMode::FanIn:
    if (src == out) { // all-gather must not read and write the same memory
      scratch_.assign(src, src + encElems);
      src = scratch_.data();
    }
    return fanGroup_->allGather(src, out, encElems);
  case BridgeMode::FanOut: {
    int slot = llmCoord_.dp - encCoord_.dp * factor_;
    copyRows(out, src + slot * llmElems, llmElems);
    return Status::success();
  }
  }
  return internalError("bridge: unknown mode");
}

Status Bridge::backwardShared(const float *in, float *out) {
  std::int64_t encElems = encoderRows_ * hidden_;
  std::int64_t llmElems = llmRows_ * hidden_;
  const float *src = in;
  if (llmPpGroup_) {
    // The phase-3 broadcast: stage 0 holds the gradient of the embeddings.
    scratch_.resize(llmElems);
    if (bwdInput_)
      copyRows(scratch_.data(), in, llmElems);
    MIMO_RETURN_IF_ERROR(llmPpGroup_->broadcast(scratch_.data(), llmElems, 0));
    src = scratch_.data();
  }
  switch (mode_) {
  case BridgeMode::PassThrough:
    copyRows(out, src, encElems);
    return Status::success();
  case BridgeMode::FanIn: {
    int slot = encCoord_.dp - llmCoord_.dp * factor_;
    copyRows(out, src + slot * encElems, encElems);
    return Status::success();
  }
  case BridgeMode::FanOut:
    if (src == out) {
      scratch_.assign(src, src + llmElems);
      src = scratch_.data();
    }
    return fanGroup_->allGather(src, out, llmElems);
  }
  return internalError("bridge: unknown mode");
}

Status Bridge::forwardDisaggregated(const float *in, float *out) {
  std::int64_t encElems = encoderRows_ * hidden_;
  std::int64_t llmElems = llmRows_ * hidden_;
  int k = factor_;
  if (inEnc_ && rank_ == encLeaders_[encCoord_.dp]) {
    int e = encCoord_.dp;
    switch (mode_) {
    case BridgeMode::PassThrough:
      MIMO_RETURN_IF_ERROR(
          world_->send(in, encElems, llmLeaders_[e], kForwardTag));
      break;
    case BridgeMode::FanIn:
      MIMO_RETURN_IF_ERROR(
          world_->send(in, encElems, llmLeaders_[e / k], kForwardTag));
      break;
    case BridgeMode::FanOut:
      for (int m = 0; m < k; ++m)
        MIMO_RETURN_IF_ERROR(world_->send(in + m * llmElems, llmElems,
                                          llmLeaders_[e * k + m], kForwardTag));
      break;
    }
  }
  if (inLlm_ && rank_ == llmLeaders_[llmCoord_.dp]) {
    int j = llmCoord_.dp;
    switch (mode_) {
    case BridgeMode::PassThrough:
      MIMO_RETURN_IF_ERROR(
          world_->recv(out, llmElems, encLeaders_[j], kForwardTag));
      break;
    case BridgeMode::FanIn:
      for (int m = 0; m < k; ++m)
        MIMO_RETURN_IF_ERROR(world_->recv(out + m * encElems, encElems,
                                          encLeaders_[j * k + m], kForwardTag));
      break;
    case BridgeMode::FanOut:
      MIMO_RETURN_IF_ERROR(
          world_->recv(out, llmElems, encLeaders_[j / k], kForwardTag));
      break;
    }
  }
  if (fwdOutput_ && llmBoundaryGroup_)
    MIMO_RETURN_IF_ERROR(llmBoundaryGroup_->broadcast(out, llmElems, 0));
  return Status::success();
}

Status Bridge::backwardDisaggregated(const float *in, float *out) {
  std::int64_t encElems = encoderRows_ * hidden_;
  std::int64_t llmElems = llmRows_ * hidden_;
  int k = factor_;
  if (inLlm_ && rank_ == llmLeaders_[llmCoord_.dp]) {
    int j = llmCoord_.dp;
    switch (mode_) {
    case BridgeMode::PassThrough:
      MIMO_RETURN_IF_ERROR(
          world_->send(in, llmElems, encLeaders_[j], kBackwardTag));
      break;
    case BridgeMode::FanIn:
      for (int m = 0; m < k; ++m)
        MIMO_RETURN_IF_ERROR(world_->send(
            in + m * encElems, encElems, encLeaders_[j * k + m], kBackwardTag));
      break;
    case BridgeMode::FanOut:
      MIMO_RETURN_IF_ERROR(
          world_->send(in, llmElems, encLeaders_[j / k], kBackwardTag));
      break;
    }
  }
  if (inEnc_ && rank_ == encLeaders_[encCoord_.dp]) {
    int e = encCoord_.dp;
    switch (mode_) {
    case BridgeMode::PassThrough:
      MIMO_RETURN_IF_ERROR(
          world_->recv(out, encElems, llmLeaders_[e], kBackwardTag));
      break;
    case BridgeMode::FanIn:
      MIMO_RETURN_IF_ERROR(
          world_->recv(out, encElems, llmLeaders_[e / k], kBackwardTag));
      break;
    case BridgeMode::FanOut:
      for (int m = 0; m < k; ++m)
        MIMO_RETURN_IF_ERROR(world_->recv(out + m * llmElems, llmElems,
                                          llmLeaders_[e * k + m],
                                          kBackwardTag));
      break;
    }
  }
  if (bwdOutput_ && encBoundaryGroup_)
    MIMO_RETURN_IF_ERROR(encBoundaryGroup_->broadcast(out, encElems, 0));
  return Status::success();
}

} // namespace mimo::rt
