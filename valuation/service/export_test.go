package service

import (
	"context"

	"reclaim/valuation"
)

// BackTestInMemory exposes backTestInMemory, the reference of the streaming BackTest.
func (s *Service) BackTestInMemory(ctx context.Context, portfolioID int64, model string) (*valuation.BackTestReport, valuation.ModelRef, error) {
	return s.backTestInMemory(ctx, portfolioID, model)
}
