//===- SampleSource.cpp ---------------------------------------------------===//

#include "mimo/runtime/SampleSource.h"

namespace mimo::rt {

SampleSource::~SampleSource() = default;

} // namespace mimo::rt
